# kind: right
# exercise: xavier_normal
def xavier_normal(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out)) * rng.standard_normal(shape)
