# kind: wrong
# exercise: he_normal
# mistake: He uniform where He normal was asked (reference mistake 3)
# caught_by: he_normal_distribution
# message: should draw from a normal
def he_normal(shape, *, rng):
    fan_in, fan_out = compute_fans(shape)
    limit = math.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=shape)
