# kind: wrong
# exercise: xavier_uniform
# mistake: ignores gain
# caught_by: xavier_uniform_std
# message: no gain
def xavier_uniform(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)
