# kind: wrong
# exercise: affine_backward
# mistake: wrong sign of dx
# caught_by: affine_backward_values,affine_backward_gradcheck
# message: sign error
def affine_backward(dout, cache):
    x, W, b = cache
    return -(dout @ W.T), x.T @ dout, dout.sum(axis=0)
