# kind: wrong
# exercise: batchnorm_forward
# mistake: updates the running statistics in place (cs231n's bn_param write-back) instead of returning new arrays
# caught_by: batchnorm_forward_running_stats
# message: in place
def batchnorm_forward(x, gamma, beta, running_mean, running_var, *, training, momentum=0.1, eps=1e-5):
    N = x.shape[0]
    if training:
        if N < 2:
            raise ValueError("need N >= 2")
        mean, var = x.mean(axis=0), x.var(axis=0)
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * N / (N - 1)
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, training), running_mean, running_var
