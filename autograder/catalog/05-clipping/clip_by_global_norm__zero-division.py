# kind: wrong
# exercise: clip_by_global_norm
# mistake: divides by the total norm in plain Python, so all-zero gradients raise ZeroDivisionError
# caught_by: clip_by_global_norm_small
# message: ZeroDivisionError
def clip_by_global_norm(grads, max_norm):
    values = list(grads.values()) if isinstance(grads, dict) else list(grads)
    total = float(np.sqrt(sum(float(np.sum(g**2)) for g in values)))
    coef = max_norm / total if total > max_norm else 1.0 + 0.0 * (max_norm / total)
    out = [g * coef for g in values]
    if isinstance(grads, dict):
        return dict(zip(grads.keys(), out)), total
    return (tuple(out) if isinstance(grads, tuple) else out), total
