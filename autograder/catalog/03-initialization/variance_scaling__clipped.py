# kind: wrong
# exercise: variance_scaling
# mistake: truncation by clipping to +-2 std instead of redrawing
# caught_by: variance_scaling_distributions
# message: std is
def variance_scaling(shape, *, scale=1.0, mode="fan_in", distribution="truncated_normal", rng):
    fan_in, fan_out = compute_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    std = math.sqrt(scale / n)
    if distribution == "uniform":
        return rng.uniform(-math.sqrt(3) * std, math.sqrt(3) * std, size=shape)
    if distribution == "untruncated_normal":
        return rng.normal(0.0, std, size=shape)
    return std / 0.87962566103423978 * np.clip(rng.standard_normal(shape), -2.0, 2.0)
