# kind: wrong
# exercise: clip_by_global_norm
# mistake: scales the input arrays in place
# caught_by: clip_by_global_norm_clipped, clip_by_global_norm_total
# message: in place
def clip_by_global_norm(grads, max_norm):
    values = list(grads.values()) if isinstance(grads, dict) else list(grads)
    total = float(np.sqrt(sum(np.sum(g**2) for g in values)))
    coef = min(1.0, max_norm / (total + 1e-6))
    for g in values:
        g *= coef
    return grads, total
