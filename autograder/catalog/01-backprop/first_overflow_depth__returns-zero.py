# kind: wrong
# exercise: first_overflow_depth
# mistake: returns 0 instead of raising for |scale| <= 1
# caught_by: first_overflow_depth_rejects
# message: must raise ValueError
def first_overflow_depth(scale, dtype=np.float32):
    if abs(scale) <= 1:
        return 0
    p, depth = dtype(1), 0
    with np.errstate(over="ignore"):
        while not np.isinf(p):
            p = dtype(p * dtype(scale))
            depth += 1
    return depth
