# kind: wrong
# exercise: variance_scaling
# mistake: uniform limit sqrt(scale / n) without the 3
# caught_by: variance_scaling_distributions
# message: sqrt(3 * scale / n)
def variance_scaling(shape, *, scale=1.0, mode="fan_in", distribution="truncated_normal", rng):
    fan_in, fan_out = compute_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    std = math.sqrt(scale / n)
    if distribution == "uniform":
        return rng.uniform(-std, std, size=shape)
    if distribution == "untruncated_normal":
        return rng.normal(0.0, std, size=shape)
    z = rng.standard_normal(shape)
    while (np.abs(z) > 2).any():
        bad = np.abs(z) > 2
        z[bad] = rng.standard_normal(int(bad.sum()))
    return std / 0.87962566103423978 * z
