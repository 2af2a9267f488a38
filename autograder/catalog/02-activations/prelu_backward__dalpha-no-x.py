# kind: wrong
# exercise: prelu_backward
# mistake: dalpha sums dout on the negative side but forgets the factor x
# caught_by: prelu_backward_values
# message: without the factor x
def prelu_backward(dout, cache):
    x, alpha = cache
    dx = dout * np.where(x > 0, 1.0, alpha)
    dalpha = np.sum(np.where(x > 0, 0.0, dout), axis=0)
    if alpha.shape == (1,):
        dalpha = dalpha.sum(keepdims=True)
    return dx, dalpha
