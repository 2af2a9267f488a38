# kind: wrong
# exercise: affine_backward
# mistake: dW = dout.T @ x (transposed)
# caught_by: affine_backward_values,affine_backward_gradcheck
# message: did you transpose it
def affine_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, dout.T @ x, dout.sum(axis=0)
