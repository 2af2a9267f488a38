# kind: wrong
# exercise: first_overflow_depth
# mistake: multiplies in Python floats (float64), ignoring dtype
# caught_by: first_overflow_depth_values
# message: float64 overflows
def first_overflow_depth(scale, dtype=np.float32):
    if abs(scale) <= 1:
        raise ValueError(f"scale {scale} must have |scale| > 1")
    p, depth = 1.0, 0
    while not math.isinf(p):
        p = p * scale
        depth += 1
    return depth
