# kind: wrong
# exercise: numerical_gradient
# mistake: a hard-coded step 1e-5 instead of the h passed in
# caught_by: numerical_gradient_values
# message: not by the step h
def numerical_gradient(f, x, h=1e-5):
    step = 1e-5
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + step
        plus = f(x)
        x[ix] = old - step
        minus = f(x)
        x[ix] = old
        grad[ix] = (plus - minus) / (2 * step)
    return grad
