# kind: wrong
# exercise: xavier_normal
# mistake: He's 2/fan_in (reference mistake 1)
# caught_by: xavier_normal_std
# message: He's 2/fan_in
def xavier_normal(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    return rng.normal(0.0, gain * math.sqrt(2.0 / fan_in), size=shape)
