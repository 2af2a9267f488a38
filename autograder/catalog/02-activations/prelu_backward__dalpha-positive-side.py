# kind: wrong
# exercise: prelu_backward
# mistake: dalpha collects dout * x where x > 0, the side alpha does not touch
# caught_by: prelu_backward_values
# message: positive side
def prelu_backward(dout, cache):
    x, alpha = cache
    dx = dout * np.where(x > 0, 1.0, alpha)
    dalpha = np.sum(np.where(x > 0, dout * x, 0.0), axis=0)
    if alpha.shape == (1,):
        dalpha = dalpha.sum(keepdims=True)
    return dx, dalpha
