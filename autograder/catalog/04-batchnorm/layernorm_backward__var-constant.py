# kind: wrong
# exercise: layernorm_backward
# mistake: flows through the mean only; the variance is treated as a constant
# caught_by: layernorm_backward_values
# message: only the path through the mean
def layernorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    g = gamma * dout
    dx = inv_std * (g - g.mean(axis=1, keepdims=True))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
