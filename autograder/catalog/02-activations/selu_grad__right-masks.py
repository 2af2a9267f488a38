# kind: right
# exercise: selu_grad
def selu_grad(x):
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape, SELU_SCALE)
    neg = x <= 0
    out[neg] = SELU_SCALE * SELU_ALPHA * np.exp(x[neg])
    return out
