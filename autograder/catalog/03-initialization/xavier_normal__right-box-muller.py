# kind: right
# exercise: xavier_normal
def xavier_normal(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    n = math.prod(shape)
    u1 = 1.0 - rng.random(n)
    u2 = rng.random(n)
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return (std * z).reshape(shape)
