# kind: wrong
# exercise: xavier_normal
# mistake: uniform where normal was asked (reference mistake 3)
# caught_by: xavier_normal_distribution
# message: should draw from a normal
def xavier_normal(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    limit = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)
