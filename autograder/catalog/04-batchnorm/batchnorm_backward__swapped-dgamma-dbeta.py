# kind: wrong
# exercise: batchnorm_backward
# mistake: returns dbeta and dgamma in the wrong order
# caught_by: batchnorm_backward_training, batchnorm_backward_eval
# message: swapped
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, training = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    if not training:
        return dout * gamma * inv_std, dbeta, dgamma
    N = dout.shape[0]
    return gamma * inv_std / N * (N * dout - dbeta - x_hat * dgamma), dbeta, dgamma
