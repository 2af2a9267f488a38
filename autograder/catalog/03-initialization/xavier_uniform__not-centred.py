# kind: wrong
# exercise: xavier_uniform
# mistake: U(0, r) instead of U(-r, r)
# caught_by: xavier_uniform_std
# message: centred at 0
def xavier_uniform(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    limit = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(0.0, limit, size=shape)
