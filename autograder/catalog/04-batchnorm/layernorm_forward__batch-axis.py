# kind: wrong
# exercise: layernorm_forward
# mistake: normalizes each feature over the batch (axis=0), which is BatchNorm
# caught_by: layernorm_forward_values
# message: BatchNorm's statistics
def layernorm_forward(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
