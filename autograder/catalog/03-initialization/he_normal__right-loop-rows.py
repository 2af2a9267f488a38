# kind: right
# exercise: he_normal
def he_normal(shape, *, rng):
    fan_in, _ = compute_fans(shape)
    std = math.sqrt(2.0) / math.sqrt(fan_in)
    flat = np.empty((shape[0], math.prod(shape[1:])))
    for i in range(shape[0]):
        flat[i] = std * rng.standard_normal(flat.shape[1])
    return flat.reshape(shape)
