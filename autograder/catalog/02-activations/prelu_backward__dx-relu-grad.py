# kind: wrong
# exercise: prelu_backward
# mistake: dx uses ReLU's derivative (0 on the negative side) instead of alpha
# caught_by: prelu_backward_values
# message: ReLU's derivative
def prelu_backward(dout, cache):
    x, alpha = cache
    dx = dout * (x > 0)
    dalpha = np.sum(np.where(x > 0, 0.0, dout * x), axis=0)
    if alpha.shape == (1,):
        dalpha = dalpha.sum(keepdims=True)
    return dx, dalpha
