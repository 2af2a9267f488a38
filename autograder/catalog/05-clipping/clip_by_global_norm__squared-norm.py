# kind: wrong
# exercise: clip_by_global_norm
# mistake: returns (and uses) the squared global norm, forgetting the square root
# caught_by: clip_by_global_norm_clipped, clip_by_global_norm_total
# message: square
def clip_by_global_norm(grads, max_norm):
    values = list(grads.values()) if isinstance(grads, dict) else list(grads)
    total = float(sum(np.sum(g**2) for g in values))
    coef = min(1.0, max_norm / (total + 1e-6))
    out = [g * coef for g in values]
    if isinstance(grads, dict):
        return dict(zip(grads.keys(), out)), total
    return (tuple(out) if isinstance(grads, tuple) else out), total
