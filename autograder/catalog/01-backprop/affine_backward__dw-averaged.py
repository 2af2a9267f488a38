# kind: wrong
# exercise: affine_backward
# mistake: dW divided by the batch size
# caught_by: affine_backward_values,affine_backward_gradcheck
# message: averaged
def affine_backward(dout, cache):
    x, W, b = cache
    return dout @ W.T, x.T @ dout / x.shape[0], dout.sum(axis=0)
