# kind: wrong
# exercise: compute_fans
# mistake: PyTorch's (out, in, kh, kw) layout (reference mistake 2)
# caught_by: compute_fans_values
# message: swapped
def compute_fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive
