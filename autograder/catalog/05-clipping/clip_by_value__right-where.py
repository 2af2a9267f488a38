# kind: right
# exercise: clip_by_value
# np.where twice, building the container by index / key.
def clip_by_value(grads, clip_value):
    def one(g):
        g = np.where(g > clip_value, clip_value, g)
        return np.where(g < -clip_value, -clip_value, g)

    if isinstance(grads, dict):
        out = {}
        for key in grads:
            out[key] = one(grads[key])
        return out
    return type(grads)(one(g) for g in grads)
