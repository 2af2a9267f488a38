# kind: wrong
# exercise: xavier_uniform
# mistake: variance from fan_in only (He's 2/fan_in) (reference mistake 1)
# caught_by: xavier_uniform_std
# message: He's 2/fan_in
def xavier_uniform(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    limit = gain * math.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape)
