# kind: wrong
# exercise: layernorm_forward
# mistake: adds eps to the standard deviation instead of the variance
# caught_by: layernorm_forward_values
# message: add it to the variance
def layernorm_forward(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=1, keepdims=True)
    inv_std = 1.0 / (x.std(axis=1, keepdims=True) + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
