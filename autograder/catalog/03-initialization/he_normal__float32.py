# kind: wrong
# exercise: he_normal
# mistake: draws in float32 (rng.standard_normal(..., dtype=np.float32)), where the lesson's weights are float64
# caught_by: he_normal_std
# message: float32
def he_normal(shape, *, rng):
    fan_in, _ = compute_fans(shape)
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(math.sqrt(2.0 / fan_in))
