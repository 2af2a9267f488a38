# kind: wrong
# exercise: layernorm_forward
# mistake: computes in float32
# caught_by: layernorm_forward_values
# message: dtype float32
def layernorm_forward(x, gamma, beta, eps=1e-5):
    x = x.astype(np.float32)
    mean = x.mean(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=1, keepdims=True) + np.float32(eps))
    x_hat = (x - mean) * inv_std
    return (gamma.astype(np.float32) * x_hat + beta.astype(np.float32)), (x_hat, gamma, inv_std)
