# kind: right
# exercise: elu_grad
def elu_grad(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    out = np.ones_like(x)
    neg = x <= 0
    out[neg] = alpha * np.exp(x[neg])
    return out
