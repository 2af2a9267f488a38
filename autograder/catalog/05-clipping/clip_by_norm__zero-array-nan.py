# kind: wrong
# exercise: clip_by_norm
# mistake: normalizes every array first (g / ||g||), so an all-zero array becomes 0/0 = nan
# caught_by: clip_by_norm_values
# message: nan
def clip_by_norm(grads, max_norm):
    def one(g):
        norm = np.linalg.norm(g)
        with np.errstate(invalid="ignore", divide="ignore"):
            return g / norm * min(norm, max_norm)

    if isinstance(grads, dict):
        return {k: one(g) for k, g in grads.items()}
    out = [one(g) for g in grads]
    return tuple(out) if isinstance(grads, tuple) else out
