# kind: wrong
# exercise: prelu_backward
# mistake: dx takes slope 1 at x = 0 (x >= 0); autograd gives alpha at the kink
# caught_by: prelu_backward_values
# message: at the kink autograd gives alpha
def prelu_backward(dout, cache):
    x, alpha = cache
    dx = dout * np.where(x >= 0, 1.0, alpha)
    dalpha = np.sum(np.where(x > 0, 0.0, dout * x), axis=0)
    if alpha.shape == (1,):
        dalpha = dalpha.sum(keepdims=True)
    return dx, dalpha
