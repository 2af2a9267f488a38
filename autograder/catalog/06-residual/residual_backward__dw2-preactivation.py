# kind: wrong
# exercise: residual_backward
# mistake: dW2 uses the pre-activation h instead of f(h)
# caught_by: residual_backward_values,residual_backward_numerical
# message: pre-activation
def residual_backward(dout, cache):
    (x, W1, b1), (h, act), (a, W2, b2) = cache
    dh = (dout @ W2.T) * act.grad(h)
    return dout + dh @ W1.T, x.T @ dh, dh.sum(axis=0), h.T @ dout, dout.sum(axis=0)
