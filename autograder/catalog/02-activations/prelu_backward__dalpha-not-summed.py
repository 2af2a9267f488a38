# kind: wrong
# exercise: prelu_backward
# mistake: dalpha is one value per example: the batch is not summed over
# caught_by: prelu_backward_values
# message: did not sum over the batch
def prelu_backward(dout, cache):
    x, alpha = cache
    dx = dout * np.where(x > 0, 1.0, alpha)
    dalpha = np.where(x > 0, 0.0, dout * x)
    return dx, dalpha
