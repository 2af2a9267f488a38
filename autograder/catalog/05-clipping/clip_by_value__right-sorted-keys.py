# kind: right
# exercise: clip_by_value
# returns the same keys in another (sorted, reversed) order: the lesson asks for the same keys only
def clip_by_value(grads, clip_value):
    if isinstance(grads, dict):
        return {k: np.clip(grads[k], -clip_value, clip_value) for k in sorted(grads, reverse=True)}
    out = [np.clip(g, -clip_value, clip_value) for g in grads]
    return tuple(out) if isinstance(grads, tuple) else out
