# kind: wrong
# exercise: layernorm_forward
# mistake: default eps 1e-3 (Keras's) instead of PyTorch's 1e-5
# caught_by: layernorm_forward_values
# message: eps = 1e-3
def layernorm_forward(x, gamma, beta, eps=1e-3):
    mean = x.mean(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
