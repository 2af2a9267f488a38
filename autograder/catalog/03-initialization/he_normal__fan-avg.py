# kind: wrong
# exercise: he_normal
# mistake: He from fan_avg (reference mistake 1)
# caught_by: he_normal_std
# message: He from fan_avg
def he_normal(shape, *, rng):
    fan_in, fan_out = compute_fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / ((fan_in + fan_out) / 2.0)), size=shape)
