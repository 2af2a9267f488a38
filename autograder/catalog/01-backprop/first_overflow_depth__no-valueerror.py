# kind: wrong
# exercise: first_overflow_depth
# mistake: no ValueError for |scale| <= 1: loops forever
# caught_by: first_overflow_depth_rejects
# message: did not return within
def first_overflow_depth(scale, dtype=np.float32):
    p, depth = dtype(1), 0
    with np.errstate(over="ignore", under="ignore"):
        while not np.isinf(p):
            p = dtype(p * dtype(scale))
            depth += 1
    return depth
