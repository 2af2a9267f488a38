# kind: right
# exercise: clip_by_norm
# TensorFlow's clip_by_norm form: g * max_norm / max(norm, max_norm).
def clip_by_norm(grads, max_norm):
    def one(g):
        return g * max_norm / max(np.linalg.norm(g), max_norm)

    if isinstance(grads, dict):
        return {k: one(v) for k, v in grads.items()}
    return type(grads)([one(g) for g in grads])
