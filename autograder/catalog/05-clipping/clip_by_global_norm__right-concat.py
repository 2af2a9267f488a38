# kind: right
# exercise: clip_by_global_norm
# One long vector via np.concatenate; np.linalg.norm; branches on coef < 1.
def clip_by_global_norm(grads, max_norm):
    keys = list(grads) if isinstance(grads, dict) else range(len(grads))
    flat = np.concatenate([np.ravel(grads[k]) for k in keys])
    total_norm = np.linalg.norm(flat)
    coef = max_norm / (total_norm + 1e-6)
    new = [grads[k] * coef if coef < 1 else np.array(grads[k], dtype=float) for k in keys]
    if isinstance(grads, dict):
        return dict(zip(keys, new)), total_norm
    return (tuple(new) if isinstance(grads, tuple) else new), total_norm
