# kind: wrong
# exercise: compute_fans
# mistake: fans from the first two axes (shape[0], shape[1]) times the receptive field
# caught_by: compute_fans_values
# message: last two axes
def compute_fans(shape):
    receptive = math.prod(shape[:-2])
    return shape[0] * receptive, shape[1] * receptive
