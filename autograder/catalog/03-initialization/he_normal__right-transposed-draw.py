# kind: right
# exercise: he_normal
def he_normal(shape, *, rng):
    fan_in, _ = compute_fans(shape)
    return rng.normal(scale=math.sqrt(2.0 / fan_in), size=tuple(reversed(shape))).T
