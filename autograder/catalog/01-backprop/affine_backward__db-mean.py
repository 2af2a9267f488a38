# kind: wrong
# exercise: affine_backward
# mistake: db averaged over the batch instead of summed
# caught_by: affine_backward_values,affine_backward_gradcheck
# message: mean over the batch
def affine_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout, dout.mean(axis=0)
