# kind: right
# exercise: clip_by_norm
# torch-style factor min(1, max_norm / (norm + 1e-6)) per array (accepted too), explicit loops.
def clip_by_norm(grads, max_norm):
    keys = list(grads.keys()) if isinstance(grads, dict) else list(range(len(grads)))
    out = []
    for k in keys:
        g = np.asarray(grads[k], dtype=float)
        norm = 0.0
        for v in g.ravel():
            norm += v * v
        coef = min(1.0, max_norm / (norm**0.5 + 1e-6))
        out.append(g * coef)
    if isinstance(grads, dict):
        return dict(zip(keys, out))
    return tuple(out) if isinstance(grads, tuple) else out
