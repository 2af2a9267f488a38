# kind: right
# exercise: xavier_uniform
def xavier_uniform(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    limit = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.random(shape) * 2.0 * limit - limit
