# kind: wrong
# exercise: affine_backward
# mistake: modifies dout in place
# caught_by: affine_backward_values
# message: modified its input dout
def affine_backward(dout, cache):
    x, W, b = cache
    db = dout.sum(axis=0)
    dout *= 2.0
    return dout @ W.T / 2.0, x.T @ dout / 2.0, db
