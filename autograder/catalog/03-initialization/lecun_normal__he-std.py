# kind: wrong
# exercise: lecun_normal
# mistake: He's 2/fan_in instead of 1/fan_in
# caught_by: lecun_normal_std
# message: He's 2/fan_in
def lecun_normal(shape, *, rng):
    fan_in, _ = compute_fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)
