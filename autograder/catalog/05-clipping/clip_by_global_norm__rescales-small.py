# kind: wrong
# exercise: clip_by_global_norm
# mistake: clips gradients that were already small (factor not clamped to 1)
# caught_by: clip_by_global_norm_small
# message: already below max_norm
def clip_by_global_norm(grads, max_norm):
    values = list(grads.values()) if isinstance(grads, dict) else list(grads)
    total = float(np.sqrt(sum(np.sum(g**2) for g in values)))
    coef = max_norm / (total + 1e-6)
    out = [g * coef for g in values]
    if isinstance(grads, dict):
        return dict(zip(grads.keys(), out)), total
    return (tuple(out) if isinstance(grads, tuple) else out), total
