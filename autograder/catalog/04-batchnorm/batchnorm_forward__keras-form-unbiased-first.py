# kind: right
# exercise: batchnorm_forward
# Unbiased variance first (ddof=1) then rescaled to the biased one; the moving average written Keras's way
# with keras_momentum = 1 - momentum; eval returns the running statistics themselves (not copies).
def batchnorm_forward(x, gamma, beta, running_mean, running_var, *, training, momentum=0.1, eps=1e-5):
    N = x.shape[0]
    if training:
        if N < 2:
            raise ValueError(f"batch of {N} in training mode")
        mean = np.mean(x, axis=0)
        var_unbiased = np.var(x, axis=0, ddof=1)
        var = var_unbiased * (N - 1) / N
        keras_momentum = 1.0 - momentum
        new_mean = keras_momentum * running_mean + (1 - keras_momentum) * mean
        new_var = keras_momentum * running_var + (1 - keras_momentum) * var_unbiased
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean, running_var
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    return x_hat * gamma + beta, (x_hat, gamma, 1.0 / std, training), new_mean, new_var
