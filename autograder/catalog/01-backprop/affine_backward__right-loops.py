# kind: right
# exercise: affine_backward
def affine_backward(dout, cache):
    x, W, b = cache
    dx = np.zeros_like(x, dtype=float)
    dW = np.zeros_like(W, dtype=float)
    db = np.zeros_like(b, dtype=float)
    for n in range(x.shape[0]):
        dx[n] = W @ dout[n]
        dW += np.outer(x[n], dout[n])
        db += dout[n]
    return dx, dW, db
