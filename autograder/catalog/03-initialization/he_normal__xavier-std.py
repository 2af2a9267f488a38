# kind: wrong
# exercise: he_normal
# mistake: Xavier's variance for a ReLU layer
# caught_by: he_normal_std
# message: Xavier's 2/(fan_in + fan_out)
def he_normal(shape, *, rng):
    fan_in, fan_out = compute_fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=shape)
