# kind: wrong
# exercise: compute_fans
# mistake: computes the receptive field with np.prod of a float array, so the fans come back as floats
# caught_by: compute_fans_values
# message: return ints
def compute_fans(shape):
    receptive = np.prod(np.array(shape[:-2], dtype=float)) if len(shape) > 2 else 1.0
    return shape[-2] * receptive, shape[-1] * receptive
