# kind: right
# exercise: first_overflow_depth
def first_overflow_depth(scale, dtype=np.float32):
    if -1 <= scale <= 1:
        raise ValueError(f"scale={scale}: a product of factors in [-1, 1] never overflows")
    p = np.ones(1, dtype=dtype)
    depth = 0
    with np.errstate(over="ignore"):
        while np.isfinite(p[0]):
            p = (p * np.array([scale], dtype=dtype)).astype(dtype)
            depth += 1
    return int(depth)
