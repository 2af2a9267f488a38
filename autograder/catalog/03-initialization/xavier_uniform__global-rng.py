# kind: wrong
# exercise: xavier_uniform
# mistake: draws from np.random (the global generator), ignoring rng
# caught_by: xavier_uniform_std,xavier_uniform_distribution
# message: np.random
def xavier_uniform(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    limit = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return np.random.uniform(-limit, limit, size=shape)
