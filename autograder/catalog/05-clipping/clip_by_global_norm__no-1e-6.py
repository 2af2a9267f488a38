# kind: wrong
# exercise: clip_by_global_norm
# mistake: missing 1e-6 in the factor max_norm / (total + 1e-6)
# caught_by: clip_by_global_norm_clipped
# message: 1e-6
def clip_by_global_norm(grads, max_norm):
    values = list(grads.values()) if isinstance(grads, dict) else list(grads)
    total = float(np.sqrt(sum(np.sum(g**2) for g in values)))
    coef = min(1.0, max_norm / total)
    out = [g * coef for g in values]
    if isinstance(grads, dict):
        return dict(zip(grads.keys(), out)), total
    return (tuple(out) if isinstance(grads, tuple) else out), total
