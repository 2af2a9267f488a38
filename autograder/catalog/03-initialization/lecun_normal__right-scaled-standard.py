# kind: right
# exercise: lecun_normal
def lecun_normal(shape, *, rng):
    fan_in, _ = compute_fans(shape)
    return rng.standard_normal(size=shape) / math.sqrt(fan_in)
