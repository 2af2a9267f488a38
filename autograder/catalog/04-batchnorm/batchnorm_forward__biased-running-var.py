# kind: wrong
# exercise: batchnorm_forward
# mistake: running variance updated with the biased batch variance (no N / (N - 1))
# caught_by: batchnorm_forward_running_stats
# message: unbiased variance
def batchnorm_forward(x, gamma, beta, running_mean, running_var, *, training, momentum=0.1, eps=1e-5):
    N = x.shape[0]
    if training:
        if N < 2:
            raise ValueError("need N >= 2")
        mean, var = x.mean(axis=0), x.var(axis=0)
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * var
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean.copy(), running_var.copy()
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, training), new_mean, new_var
