# kind: wrong
# exercise: residual_backward
# mistake: the activation derivative is evaluated at the output f(h) instead of the input h
# caught_by: residual_backward_values,residual_backward_numerical
# message: output f(h)
def residual_backward(dout, cache):
    (x, W1, b1), (h, act), (a, W2, b2) = cache
    da = dout @ W2.T
    dh = da * act.grad(a)
    return dout + dh @ W1.T, x.T @ dh, dh.sum(axis=0), a.T @ dout, dout.sum(axis=0)
