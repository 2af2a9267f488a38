# kind: right
# exercise: residual_backward
def residual_backward(dout, cache):
    (x, W1, b1), (h, act), (a, W2, b2) = cache
    dh = (dout @ W2.T) * act.grad(h)
    dx = dout + dh @ W1.T
    return dx, x.T @ dh, np.sum(dh, axis=0), a.T @ dout, np.sum(dout, axis=0)
