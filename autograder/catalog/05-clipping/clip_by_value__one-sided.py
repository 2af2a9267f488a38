# kind: wrong
# exercise: clip_by_value
# mistake: clips only from above (np.minimum), negative components are left as they are
# caught_by: clip_by_value_values
# message: only clipped from above
def clip_by_value(grads, clip_value):
    if isinstance(grads, dict):
        return {k: np.minimum(g, clip_value) for k, g in grads.items()}
    out = [np.minimum(g, clip_value) for g in grads]
    return tuple(out) if isinstance(grads, tuple) else out
