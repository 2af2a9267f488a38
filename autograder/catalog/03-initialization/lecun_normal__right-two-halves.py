# kind: right
# exercise: lecun_normal
def lecun_normal(shape, *, rng):
    fan_in, _ = compute_fans(shape)
    n = math.prod(shape)
    half = n // 2
    values = np.concatenate([rng.normal(0.0, 1.0, half), rng.normal(0.0, 1.0, n - half)])
    return (values / math.sqrt(fan_in)).reshape(shape)
