# kind: wrong
# exercise: clip_by_norm
# mistake: computes in float32 (a float32 copy of each gradient), so the result keeps only 7 digits
# caught_by: clip_by_norm_values
# message: float32
def clip_by_norm(grads, max_norm):
    def one(g):
        g = g.astype(np.float32)
        norm = np.linalg.norm(g)
        return g * np.float32(max_norm / norm) if norm > max_norm else g

    if isinstance(grads, dict):
        return {k: one(g) for k, g in grads.items()}
    out = [one(g) for g in grads]
    return tuple(out) if isinstance(grads, tuple) else out
