# kind: wrong
# exercise: xavier_uniform
# mistake: uses the std sqrt(2/(fan_in+fan_out)) as the uniform limit
# caught_by: xavier_uniform_std
# message: the std as the uniform limit
def xavier_uniform(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    limit = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)
