# kind: right
# exercise: elu
def elu(x, alpha=1.0):
    x = np.asarray(x, dtype=float)
    out = x.copy()
    neg = x <= 0
    out[neg] = alpha * (np.exp(x[neg]) - 1.0)
    return out
