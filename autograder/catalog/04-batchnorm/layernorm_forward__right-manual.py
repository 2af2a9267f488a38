# kind: right
# exercise: layernorm_forward
def layernorm_forward(x, gamma, beta, eps=1e-5):
    D = x.shape[1]
    centred = x - x.sum(axis=1, keepdims=True) / D
    var = (centred**2).sum(axis=1, keepdims=True) / D
    inv_std = (var + eps) ** -0.5
    x_hat = centred * inv_std
    return x_hat * gamma + beta, (x_hat, gamma, inv_std)
