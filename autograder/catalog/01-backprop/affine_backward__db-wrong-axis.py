# kind: wrong
# exercise: affine_backward
# mistake: db summed over the wrong axis
# caught_by: affine_backward_values,affine_backward_gradcheck
# message: dout.sum(axis=0)
def affine_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=1)
