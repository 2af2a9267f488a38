# kind: wrong
# exercise: batchnorm_backward
# mistake: modifies dout in place
# caught_by: batchnorm_backward_training
# message: in place
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, training = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dout *= gamma * inv_std
    if not training:
        return dout, dgamma, dbeta
    dout -= dout.mean(axis=0) + x_hat * (dout * x_hat).mean(axis=0)
    return dout, dgamma, dbeta
