# kind: wrong
# exercise: lecun_normal
# mistake: 1/fan_out (fans from the wrong axis)
# caught_by: lecun_normal_std
# message: 1/fan_out
def lecun_normal(shape, *, rng):
    _, fan_out = compute_fans(shape)
    return rng.normal(0.0, math.sqrt(1.0 / fan_out), size=shape)
