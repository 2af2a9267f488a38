# kind: right
# exercise: affine_forward
def affine_forward(x, W, b):
    out = np.einsum("nd,dm->nm", x, W) + b[None, :]
    return out, (x.copy(), W.copy(), b.copy())
