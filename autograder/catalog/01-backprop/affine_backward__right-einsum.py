# kind: right
# exercise: affine_backward
def affine_backward(dout, cache):
    x, W, b = cache
    dx = np.einsum("nm,dm->nd", dout, W)
    dW = np.einsum("nd,nm->dm", x, dout)
    db = np.ones(dout.shape[0]) @ dout
    return dx, dW, db
