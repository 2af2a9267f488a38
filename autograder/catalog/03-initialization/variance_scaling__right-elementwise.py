# kind: right
# exercise: variance_scaling
def variance_scaling(shape, *, scale=1.0, mode="fan_in", distribution="truncated_normal", rng):
    fan_in, fan_out = compute_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    sigma = math.sqrt(scale / n)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * scale / n)
        return rng.uniform(low=-limit, high=limit, size=shape)
    if distribution == "untruncated_normal":
        return rng.normal(loc=0.0, scale=sigma, size=shape)
    s = sigma / 0.87962566103423978
    out = np.empty(math.prod(shape))
    for i in range(out.size):
        v = rng.normal(0.0, s)
        while abs(v) > 2.0 * s:
            v = rng.normal(0.0, s)
        out[i] = v
    return out.reshape(shape)
