# kind: wrong
# exercise: numerical_gradient
# mistake: a one-sided (forward) difference (f(x + h) - f(x)) / h, error O(h)
# caught_by: numerical_gradient_values, numerical_gradient_default_step
# message: one-sided
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    fx = f(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        grad[ix] = (f(x) - fx) / h
        x[ix] = old
    return grad
