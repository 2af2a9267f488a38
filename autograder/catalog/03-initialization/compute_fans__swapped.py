# kind: wrong
# exercise: compute_fans
# mistake: fans from the wrong axis: (shape[-1], shape[-2]) (reference mistake 2)
# caught_by: compute_fans_values
# message: swapped
def compute_fans(shape):
    receptive = math.prod(shape[:-2])
    return shape[-1] * receptive, shape[-2] * receptive
