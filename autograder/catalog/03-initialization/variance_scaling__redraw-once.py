# kind: wrong
# exercise: variance_scaling
# mistake: redraws the values beyond 2 std only once, so about 0.2 % still lie outside the cut
# caught_by: variance_scaling_distributions
# message: one redraw is not enough
def variance_scaling(shape, *, scale=1.0, mode="fan_in", distribution="truncated_normal", rng):
    fan_in, fan_out = compute_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    if distribution == "uniform":
        limit = math.sqrt(3.0 * scale / n)
        return rng.uniform(-limit, limit, size=shape)
    if distribution == "untruncated_normal":
        return rng.normal(0.0, math.sqrt(scale / n), size=shape)
    s = math.sqrt(scale / n) / 0.87962566103423978
    w = rng.normal(0.0, s, size=shape)
    out = np.abs(w) > 2 * s
    w[out] = rng.normal(0.0, s, size=int(out.sum()))
    return w
