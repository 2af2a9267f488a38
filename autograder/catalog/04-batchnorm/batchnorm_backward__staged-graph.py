# kind: right
# exercise: batchnorm_backward
# The six staged steps of the computational graph, recovering xc and var from the cache.
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, training = cache
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    if not training:
        return dx_hat * inv_std, dgamma, dbeta
    N = dout.shape[0]
    xc = x_hat / inv_std
    dxc = dx_hat * inv_std
    dinv_std = np.sum(dx_hat * xc, axis=0)
    dvar = -0.5 * inv_std**3 * dinv_std
    dxc = dxc + 2.0 / N * xc * dvar
    dmu = -np.sum(dxc, axis=0)
    dx = dxc + dmu / N
    return dx, dgamma, dbeta
