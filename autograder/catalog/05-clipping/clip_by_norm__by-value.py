# kind: wrong
# exercise: clip_by_norm
# mistake: clips each component by value instead of rescaling the array
# caught_by: clip_by_norm_values
# message: by value
def clip_by_norm(grads, max_norm):
    if isinstance(grads, dict):
        return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}
    out = [np.clip(g, -max_norm, max_norm) for g in grads]
    return tuple(out) if isinstance(grads, tuple) else out
