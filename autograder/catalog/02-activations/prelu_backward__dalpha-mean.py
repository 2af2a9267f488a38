# kind: wrong
# exercise: prelu_backward
# mistake: dalpha averaged over the batch instead of summed
# caught_by: prelu_backward_values
# message: SUM over the batch
def prelu_backward(dout, cache):
    x, alpha = cache
    dx = dout * np.where(x > 0, 1.0, alpha)
    dalpha = np.mean(np.where(x > 0, 0.0, dout * x), axis=0)
    if alpha.shape == (1,):
        dalpha = dalpha.sum(keepdims=True)
    return dx, dalpha
