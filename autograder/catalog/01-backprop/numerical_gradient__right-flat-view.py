# kind: right
# exercise: numerical_gradient
def numerical_gradient(f, x, h=1e-5):
    flat = x.reshape(-1)  # a view: writing into it writes into x
    grad = np.empty(flat.size)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved - h
        low = f(x)
        flat[i] = saved + h
        high = f(x)
        flat[i] = saved
        grad[i] = (high - low) / (2.0 * h)
    return grad.reshape(x.shape)
