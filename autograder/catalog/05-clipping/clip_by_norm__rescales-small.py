# kind: wrong
# exercise: clip_by_norm
# mistake: clips gradients that were already small (always rescales to norm max_norm)
# caught_by: clip_by_norm_values
# message: already below max_norm
def clip_by_norm(grads, max_norm):
    def one(g):
        return g * max_norm / np.linalg.norm(g)

    if isinstance(grads, dict):
        return {k: one(g) for k, g in grads.items()}
    out = [one(g) for g in grads]
    return tuple(out) if isinstance(grads, tuple) else out
