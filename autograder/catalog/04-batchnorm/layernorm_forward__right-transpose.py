# kind: right
# exercise: layernorm_forward
def layernorm_forward(x, gamma, beta, eps=1e-5):
    xt = x.T  # features in rows: the statistics of each example are column statistics
    inv_std = 1.0 / np.sqrt(xt.var(axis=0) + eps)
    x_hat = ((xt - xt.mean(axis=0)) * inv_std).T
    return gamma * x_hat + beta, (x_hat, gamma, inv_std[:, None])
