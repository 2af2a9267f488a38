# kind: right
# exercise: layernorm_backward
def layernorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    D = dout.shape[1]
    dx_hat = dout * gamma
    xc = x_hat / inv_std  # x - mean
    dvar = (dx_hat * xc).sum(axis=1, keepdims=True) * -0.5 * inv_std**3
    dxc = dx_hat * inv_std + dvar * 2.0 * xc / D
    dx = dxc - dxc.mean(axis=1, keepdims=True)
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
