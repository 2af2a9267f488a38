# kind: wrong
# exercise: layernorm_backward
# mistake: sums dgamma and dbeta over the features (one value per example) instead of over the batch
# caught_by: layernorm_backward_values
# message: dgamma has shape
def layernorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    D = dout.shape[1]
    g = gamma * dout
    dx = inv_std / D * (D * g - g.sum(axis=1, keepdims=True) - x_hat * (g * x_hat).sum(axis=1, keepdims=True))
    return dx, (dout * x_hat).sum(axis=1), dout.sum(axis=1)
