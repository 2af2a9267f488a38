# kind: wrong
# exercise: layernorm_backward
# mistake: treats each example's mean and variance as constants: dx = gamma * dout / std
# caught_by: layernorm_backward_values
# message: treated as constants
def layernorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    return gamma * dout * inv_std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
