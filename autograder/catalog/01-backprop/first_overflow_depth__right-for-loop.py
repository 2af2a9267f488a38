# kind: right
# exercise: first_overflow_depth
def first_overflow_depth(scale, dtype=np.float32):
    if not abs(scale) > 1:
        raise ValueError(f"|scale| must be > 1, got {scale!r}")
    t = np.dtype(dtype).type
    s = t(scale)
    p = t(1.0)
    with np.errstate(over="ignore"):
        for depth in range(1, 10**6):
            p = t(p * s)
            if not np.isfinite(p):
                return depth
    raise ValueError(f"scale {scale!r} does not overflow")
