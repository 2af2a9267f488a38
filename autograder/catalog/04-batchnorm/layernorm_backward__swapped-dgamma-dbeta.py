# kind: wrong
# exercise: layernorm_backward
# mistake: returns dbeta and dgamma in the wrong order
# caught_by: layernorm_backward_values
# message: swapped
def layernorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    D = dout.shape[1]
    g = gamma * dout
    dx = inv_std / D * (D * g - g.sum(axis=1, keepdims=True) - x_hat * (g * x_hat).sum(axis=1, keepdims=True))
    return dx, dout.sum(axis=0), (dout * x_hat).sum(axis=0)
