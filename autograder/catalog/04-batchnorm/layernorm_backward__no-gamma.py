# kind: wrong
# exercise: layernorm_backward
# mistake: forgets gamma in dx (the gradient reaching x_hat is gamma * dout)
# caught_by: layernorm_backward_values
# message: without gamma
def layernorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    D = dout.shape[1]
    dx = inv_std / D * (D * dout - dout.sum(axis=1, keepdims=True) - x_hat * (dout * x_hat).sum(axis=1, keepdims=True))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
