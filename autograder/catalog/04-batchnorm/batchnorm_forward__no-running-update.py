# kind: wrong
# exercise: batchnorm_forward
# mistake: running statistics missing: returned unchanged in training mode
# caught_by: batchnorm_forward_running_stats
# message: not updated
def batchnorm_forward(x, gamma, beta, running_mean, running_var, *, training, momentum=0.1, eps=1e-5):
    N = x.shape[0]
    if training:
        if N < 2:
            raise ValueError("need N >= 2")
        mean, var = x.mean(axis=0), x.var(axis=0)
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, training), running_mean.copy(), running_var.copy()
