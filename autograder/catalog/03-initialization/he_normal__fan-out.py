# kind: wrong
# exercise: he_normal
# mistake: fan taken from the wrong axis (2/fan_out) (reference mistake 2)
# caught_by: he_normal_std
# message: wrong axis
def he_normal(shape, *, rng):
    fan_out = shape[-1] * math.prod(shape[:-2])
    return rng.normal(0.0, math.sqrt(2.0 / fan_out), size=shape)
