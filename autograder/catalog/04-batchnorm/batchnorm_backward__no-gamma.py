# kind: wrong
# exercise: batchnorm_backward
# mistake: forgets the factor gamma in dx
# caught_by: batchnorm_backward_training, batchnorm_backward_eval
# message: missing the factor gamma
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, training = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    if not training:
        return dout * inv_std, dgamma, dbeta
    N = dout.shape[0]
    return inv_std / N * (N * dout - dbeta - x_hat * dgamma), dgamma, dbeta
