# kind: wrong
# exercise: variance_scaling
# mistake: ignores the truncation: a plain normal for truncated_normal
# caught_by: variance_scaling_distributions
# message: truncated
def variance_scaling(shape, *, scale=1.0, mode="fan_in", distribution="truncated_normal", rng):
    fan_in, fan_out = compute_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    std = math.sqrt(scale / n)
    if distribution == "uniform":
        return rng.uniform(-math.sqrt(3) * std, math.sqrt(3) * std, size=shape)
    return rng.normal(0.0, std, size=shape)
