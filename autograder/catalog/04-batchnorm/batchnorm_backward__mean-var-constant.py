# kind: wrong
# exercise: batchnorm_backward
# mistake: treats the batch mean and variance as constants (dx = dout * gamma / std)
# caught_by: batchnorm_backward_training
# message: constants
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, training = cache
    return dout * gamma * inv_std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
