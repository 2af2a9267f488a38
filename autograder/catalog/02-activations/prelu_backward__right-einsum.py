# kind: right
# exercise: prelu_backward
def prelu_backward(dout, cache):
    x, alpha = cache
    mask = (x <= 0).astype(float)
    slope = np.broadcast_to(alpha, x.shape)
    dx = dout * (1.0 - mask) + dout * mask * slope
    dalpha = np.einsum("nj,nj,nj->j", dout, x, mask)
    if alpha.shape == (1,):
        dalpha = np.array([dalpha.sum()])
    return dx, dalpha
