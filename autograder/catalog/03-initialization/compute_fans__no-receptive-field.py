# kind: wrong
# exercise: compute_fans
# mistake: kernel fans without the receptive field kh * kw
# caught_by: compute_fans_values
# message: receptive field is missing
def compute_fans(shape):
    return shape[-2], shape[-1]
