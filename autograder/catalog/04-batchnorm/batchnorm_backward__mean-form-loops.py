# kind: right
# exercise: batchnorm_backward
# Per-feature loop with the "minus the mean, minus the projection" form of the formula.
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, training = cache
    N, D = dout.shape
    dx = np.zeros((N, D))
    dgamma = np.zeros(D)
    dbeta = np.zeros(D)
    for j in range(D):
        g = dout[:, j]
        h = x_hat[:, j]
        dbeta[j] = g.sum()
        dgamma[j] = (g * h).sum()
        if training:
            dx[:, j] = gamma[j] * inv_std[j] * (g - g.mean() - h * (g * h).mean())
        else:
            dx[:, j] = gamma[j] * inv_std[j] * g
    return dx, dgamma, dbeta
