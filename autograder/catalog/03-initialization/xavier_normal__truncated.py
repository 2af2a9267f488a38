# kind: wrong
# exercise: xavier_normal
# mistake: Keras' truncated GlorotNormal where PyTorch's untruncated normal was asked
# caught_by: xavier_normal_distribution
# message: truncated
def xavier_normal(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    z = rng.standard_normal(shape)
    while (np.abs(z) > 2).any():
        bad = np.abs(z) > 2
        z[bad] = rng.standard_normal(int(bad.sum()))
    return z * std / 0.87962566103423978
