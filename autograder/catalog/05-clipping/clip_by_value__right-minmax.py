# kind: right
# exercise: clip_by_value
# np.maximum(np.minimum(...)) on copies, dict(zip(...)) for dicts.
def clip_by_value(grads, clip_value):
    if isinstance(grads, dict):
        keys = list(grads)
        vals = [np.maximum(np.minimum(grads[k], clip_value), -clip_value) for k in keys]
        return dict(zip(keys, vals))
    vals = [np.maximum(np.minimum(np.array(g, dtype=float), clip_value), -clip_value) for g in grads]
    if isinstance(grads, tuple):
        return tuple(vals)
    return vals
