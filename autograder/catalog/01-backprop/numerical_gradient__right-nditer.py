# kind: right
# exercise: numerical_gradient
def numerical_gradient(f, x, h=1e-5):
    backup = x.copy()
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        x[ix] = backup[ix] + h
        fp = f(x)
        x[ix] = backup[ix] - h
        fm = f(x)
        x[...] = backup
        grad[ix] = 0.5 * (fp - fm) / h
        it.iternext()
    return grad
