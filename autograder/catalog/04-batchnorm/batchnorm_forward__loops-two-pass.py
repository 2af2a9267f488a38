# kind: right
# exercise: batchnorm_forward
# Loops over the features, two-pass variance, Python floats.
def batchnorm_forward(x, gamma, beta, running_mean, running_var, *, training, momentum=0.1, eps=1e-5):
    N, D = x.shape
    if training and N < 2:
        raise ValueError(f"training mode needs N >= 2, got N={N}")
    x_hat = np.empty((N, D))
    inv_std = np.empty(D)
    new_mean = np.empty(D)
    new_var = np.empty(D)
    for j in range(D):
        col = x[:, j]
        if training:
            m = sum(col) / N
            v = sum((c - m) ** 2 for c in col) / N
            new_mean[j] = (1 - momentum) * running_mean[j] + momentum * m
            new_var[j] = (1 - momentum) * running_var[j] + momentum * v * N / (N - 1)
        else:
            m, v = running_mean[j], running_var[j]
            new_mean[j], new_var[j] = m, v
        inv_std[j] = 1.0 / np.sqrt(v + eps)
        x_hat[:, j] = (col - m) * inv_std[j]
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, training), new_mean, new_var
