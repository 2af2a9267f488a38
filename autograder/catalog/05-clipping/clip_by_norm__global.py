# kind: wrong
# exercise: clip_by_norm
# mistake: per-tensor clipping asked, global norm used
# caught_by: clip_by_norm_values
# message: global norm
def clip_by_norm(grads, max_norm):
    values = list(grads.values()) if isinstance(grads, dict) else list(grads)
    total = np.sqrt(sum(np.sum(g**2) for g in values))
    coef = min(1.0, max_norm / total)
    if isinstance(grads, dict):
        return {k: g * coef for k, g in grads.items()}
    out = [g * coef for g in values]
    return tuple(out) if isinstance(grads, tuple) else out
