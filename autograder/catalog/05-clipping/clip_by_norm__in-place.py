# kind: wrong
# exercise: clip_by_norm
# mistake: rescales the input arrays in place (g *= ...)
# caught_by: clip_by_norm_values
# message: in place
def clip_by_norm(grads, max_norm):
    values = grads.values() if isinstance(grads, dict) else grads
    for g in values:
        n = np.linalg.norm(g)
        if n > max_norm:
            g *= max_norm / n
    return grads
