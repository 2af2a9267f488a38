# kind: wrong
# exercise: xavier_normal
# mistake: variance passed as the std (missing sqrt)
# caught_by: xavier_normal_std
# message: missing sqrt
def xavier_normal(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    return rng.normal(0.0, gain * 2.0 / (fan_in + fan_out), size=shape)
