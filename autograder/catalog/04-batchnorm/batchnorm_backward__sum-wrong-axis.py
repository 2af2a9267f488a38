# kind: wrong
# exercise: batchnorm_backward
# mistake: sums dgamma and dbeta over the features (axis=1) instead of over the batch
# caught_by: batchnorm_backward_training
# message: shape
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, training = cache
    dbeta = dout.sum(axis=1)
    dgamma = (dout * x_hat).sum(axis=1)
    N = dout.shape[0]
    if not training:
        return dout * gamma * inv_std, dgamma, dbeta
    dx = gamma * inv_std / N * (N * dout - dout.sum(axis=0) - x_hat * (dout * x_hat).sum(axis=0))
    return dx, dgamma, dbeta
