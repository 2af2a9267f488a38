# kind: wrong
# exercise: prelu_backward
# mistake: sums dalpha over the features too, although each feature has its own slope
# caught_by: prelu_backward_values
# message: summed over the features too
def prelu_backward(dout, cache):
    x, alpha = cache
    dx = dout * np.where(x > 0, 1.0, alpha)
    dalpha = np.sum(np.where(x > 0, 0.0, dout * x), keepdims=True).reshape(1)
    return dx, dalpha
