# kind: wrong
# exercise: batchnorm_backward
# mistake: uses the training-mode formula (paths through the batch statistics) in eval mode
# caught_by: batchnorm_backward_eval
# message: constants
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, training = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    return gamma * inv_std / N * (N * dout - dbeta - x_hat * dgamma), dgamma, dbeta
