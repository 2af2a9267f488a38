# kind: right
# exercise: leaky_relu_grad
def leaky_relu_grad(x, negative_slope=0.01):
    x = np.asarray(x, dtype=float)
    out = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        out[idx] = 1.0 if x[idx] > 0 else negative_slope
    return out
