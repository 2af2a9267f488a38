# kind: wrong
# exercise: clip_by_global_norm
# mistake: per-tensor clipping where the global norm was asked for
# caught_by: clip_by_global_norm_clipped
# message: each array by its own norm
def clip_by_global_norm(grads, max_norm):
    values = list(grads.values()) if isinstance(grads, dict) else list(grads)
    total = float(np.sqrt(sum(np.sum(g**2) for g in values)))
    out = [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in values]
    if isinstance(grads, dict):
        return dict(zip(grads.keys(), out)), total
    return (tuple(out) if isinstance(grads, tuple) else out), total
