# kind: right
# exercise: layernorm_backward
def layernorm_backward(dout, cache):
    # LayerNorm is BatchNorm of the transpose, without gamma: reuse BN's formula on (D, N) arrays
    x_hat, gamma, inv_std = cache
    g, xh = (gamma * dout).T, x_hat.T
    D = g.shape[0]
    dxt = inv_std.T / D * (D * g - g.sum(axis=0) - xh * (g * xh).sum(axis=0))
    return dxt.T, np.einsum("nd,nd->d", dout, x_hat), np.einsum("nd->d", dout)
