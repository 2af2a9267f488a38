# kind: right
# exercise: numerical_gradient
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[ix] += h
        xm[ix] -= h
        grad[ix] = (f(xp) - f(xm)) / (2 * h)
    return grad
