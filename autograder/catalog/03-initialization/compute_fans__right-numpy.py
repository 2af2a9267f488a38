# kind: right
# exercise: compute_fans
def compute_fans(shape):
    shape = tuple(shape)
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return receptive * shape[-2], receptive * shape[-1]
