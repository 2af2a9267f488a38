# kind: right
# exercise: prelu_backward
def prelu_backward(dout, cache):
    x, alpha = cache
    negative = x <= 0
    dx = dout + (alpha - 1.0) * dout * negative
    dalpha = (dout * np.minimum(x, 0.0)).sum(axis=0)
    return dx, dalpha.sum(keepdims=True) if alpha.size == 1 else dalpha
