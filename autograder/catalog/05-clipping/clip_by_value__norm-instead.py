# kind: wrong
# exercise: clip_by_value
# mistake: rescales each array by its norm instead of clipping components
# caught_by: clip_by_value_values
# message: rescaled by the norm
def clip_by_value(grads, clip_value):
    def one(g):
        n = np.linalg.norm(g)
        return g * clip_value / n if n > clip_value else g.copy()

    if isinstance(grads, dict):
        return {k: one(g) for k, g in grads.items()}
    out = [one(g) for g in grads]
    return tuple(out) if isinstance(grads, tuple) else out
