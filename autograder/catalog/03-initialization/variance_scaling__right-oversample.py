# kind: right
# exercise: variance_scaling
def variance_scaling(shape, *, scale=1.0, mode="fan_in", distribution="truncated_normal", rng):
    fan_in, fan_out = compute_fans(shape)
    if mode == "fan_in":
        n = fan_in
    elif mode == "fan_out":
        n = fan_out
    else:
        n = 0.5 * (fan_in + fan_out)
    variance = scale / n
    if distribution == "uniform":
        r = math.sqrt(3.0 * variance)
        return (2.0 * rng.random(shape) - 1.0) * r
    if distribution == "untruncated_normal":
        return math.sqrt(variance) * rng.standard_normal(shape)
    size = math.prod(shape)
    kept = np.empty(0)
    while kept.size < size:
        z = rng.standard_normal(2 * size)
        kept = np.concatenate([kept, z[np.abs(z) <= 2.0]])
    s = math.sqrt(variance) / 0.87962566103423978
    return s * kept[:size].reshape(shape)
