# kind: wrong
# exercise: numerical_gradient
# mistake: perturbs x[ix] and never writes the old value back
# caught_by: numerical_gradient_values, numerical_gradient_default_step
# message: left x changed
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        plus = f(x)
        x[ix] = old - h
        minus = f(x)
        grad[ix] = (plus - minus) / (2 * h)
    return grad
