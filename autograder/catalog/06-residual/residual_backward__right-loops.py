# kind: right
# exercise: residual_backward
def residual_backward(dout, cache):
    (x, W1, b1), (h, act), (a, W2, b2) = cache
    dx = np.zeros(x.shape)
    dW1, db1 = np.zeros(W1.shape), np.zeros(b1.shape)
    dW2, db2 = np.zeros(W2.shape), np.zeros(b2.shape)
    for n in range(x.shape[0]):
        dh_n = (W2 @ dout[n]) * act.grad(h[n])
        dx[n] = dout[n] + W1 @ dh_n
        dW1 += np.outer(x[n], dh_n)
        db1 += dh_n
        dW2 += np.outer(a[n], dout[n])
        db2 += dout[n]
    return dx, dW1, db1, dW2, db2
