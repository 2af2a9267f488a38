# kind: wrong
# exercise: xavier_normal
# mistake: the uniform limit sqrt(6/(fan_in+fan_out)) used as the std
# caught_by: xavier_normal_std
# message: sqrt(3) * std as the std
def xavier_normal(shape, *, gain=1.0, rng):
    fan_in, fan_out = compute_fans(shape)
    return rng.normal(0.0, gain * math.sqrt(6.0 / (fan_in + fan_out)), size=shape)
