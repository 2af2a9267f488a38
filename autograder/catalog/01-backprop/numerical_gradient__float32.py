# kind: wrong
# exercise: numerical_gradient
# mistake: stores the gradient in a float32 array
# caught_by: numerical_gradient_values
# message: dtype float32
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape, dtype=np.float32)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        plus = f(x)
        x[ix] = old - h
        minus = f(x)
        x[ix] = old
        grad[ix] = (plus - minus) / (2 * h)
    return grad
