# kind: wrong
# exercise: clip_by_norm
# mistake: adds eps inside the square root, sqrt(sum(g**2) + 1e-6), so large arrays are clipped slightly short
# caught_by: clip_by_norm_values
# message: inside the square root
def clip_by_norm(grads, max_norm):
    def one(g):
        norm = np.sqrt(np.sum(g**2) + 1e-6)
        return g * min(1.0, max_norm / norm)

    if isinstance(grads, dict):
        return {k: one(g) for k, g in grads.items()}
    out = [one(g) for g in grads]
    return tuple(out) if isinstance(grads, tuple) else out
