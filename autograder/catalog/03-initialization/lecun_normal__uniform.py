# kind: wrong
# exercise: lecun_normal
# mistake: LeCun uniform where normal was asked
# caught_by: lecun_normal_std
# message: should draw from a normal
def lecun_normal(shape, *, rng):
    fan_in, _ = compute_fans(shape)
    limit = math.sqrt(3.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape)
