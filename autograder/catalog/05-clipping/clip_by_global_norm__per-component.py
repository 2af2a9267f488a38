# kind: wrong
# exercise: clip_by_global_norm
# mistake: per-component (value) clipping where the global norm was asked for
# caught_by: clip_by_global_norm_clipped
# message: by value
def clip_by_global_norm(grads, max_norm):
    values = list(grads.values()) if isinstance(grads, dict) else list(grads)
    total = float(np.sqrt(sum(np.sum(g**2) for g in values)))
    out = [np.clip(g, -max_norm, max_norm) for g in values]
    if isinstance(grads, dict):
        return dict(zip(grads.keys(), out)), total
    return (tuple(out) if isinstance(grads, tuple) else out), total
