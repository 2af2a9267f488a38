# kind: wrong
# exercise: xavier_uniform
# mistake: normal where uniform was asked (reference mistake 3)
# caught_by: xavier_uniform_distribution
# message: should draw from a uniform
def xavier_uniform(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    return rng.normal(0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), size=shape)
