# kind: wrong
# exercise: numerical_gradient
# mistake: default step h = 1e-10: the difference of two nearly equal values drowns in rounding error
# caught_by: numerical_gradient_default_step
# message: h is too small
def numerical_gradient(f, x, h=1e-10):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        plus = f(x)
        x[ix] = old - h
        minus = f(x)
        x[ix] = old
        grad[ix] = (plus - minus) / (2 * h)
    return grad
