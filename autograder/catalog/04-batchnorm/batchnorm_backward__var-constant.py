# kind: wrong
# exercise: batchnorm_backward
# mistake: keeps the path through the mean but treats the variance as a constant
# caught_by: batchnorm_backward_training
# message: variance as a constant
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, training = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    if not training:
        return dout * gamma * inv_std, dgamma, dbeta
    return gamma * inv_std * (dout - dout.mean(axis=0)), dgamma, dbeta
