# kind: right
# exercise: sgd_step
# Inline clipping (no helper calls), copies of params updated with -= on the copies.
def sgd_step(params, grads, *, lr, clip=None, threshold=None):
    keys = list(params) if isinstance(params, dict) else list(range(len(params)))
    g = {k: np.array(grads[k], dtype=float) for k in keys}
    if clip == "value":
        g = {k: np.clip(v, -threshold, threshold) for k, v in g.items()}
    elif clip == "norm":
        g = {k: v * min(1.0, threshold / np.linalg.norm(v)) for k, v in g.items()}
    elif clip == "global_norm":
        total = np.sqrt(sum((v**2).sum() for v in g.values()))
        coef = min(1.0, threshold / (total + 1e-6))
        g = {k: v * coef for k, v in g.items()}
    elif clip is not None:
        raise ValueError(f"clip must be None, 'value', 'norm' or 'global_norm', got {clip!r}")
    new = {}
    for k in keys:
        p = np.array(params[k], dtype=float)
        p -= lr * g[k]
        new[k] = p
    if isinstance(params, dict):
        return new
    vals = [new[k] for k in keys]
    return tuple(vals) if isinstance(params, tuple) else vals
