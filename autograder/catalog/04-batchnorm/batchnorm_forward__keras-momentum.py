# kind: wrong
# exercise: batchnorm_forward
# mistake: momentum applied the Keras way round (weighs the old value)
# caught_by: batchnorm_forward_running_stats
# message: Keras
def batchnorm_forward(x, gamma, beta, running_mean, running_var, *, training, momentum=0.1, eps=1e-5):
    N = x.shape[0]
    if training:
        if N < 2:
            raise ValueError("need N >= 2")
        mean, var = x.mean(axis=0), x.var(axis=0)
        new_mean = momentum * running_mean + (1 - momentum) * mean
        new_var = momentum * running_var + (1 - momentum) * var * N / (N - 1)
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean.copy(), running_var.copy()
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, training), new_mean, new_var
