# kind: wrong
# exercise: first_overflow_depth
# mistake: returns the last finite depth (off by one)
# caught_by: first_overflow_depth_values
# message: last depth that is still finite
def first_overflow_depth(scale, dtype=np.float32):
    if abs(scale) <= 1:
        raise ValueError(f"scale {scale} must have |scale| > 1")
    p, depth = dtype(1), 0
    with np.errstate(over="ignore"):
        while not np.isinf(dtype(p * scale)):
            p = dtype(p * scale)
            depth += 1
    return depth
