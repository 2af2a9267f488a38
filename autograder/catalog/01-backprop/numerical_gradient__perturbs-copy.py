# kind: wrong
# exercise: numerical_gradient
# mistake: perturbs a copy of x, so a function that reads x directly never sees the perturbation
# caught_by: numerical_gradient_values, numerical_gradient_default_step
# message: not a copy
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[ix] += h
        xm[ix] -= h
        grad[ix] = (f(xp) - f(xm)) / (2 * h)
    return grad
