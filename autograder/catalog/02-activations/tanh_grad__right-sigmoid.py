# kind: right
# exercise: tanh_grad
def tanh_grad(x):
    s = sigmoid(2.0 * np.asarray(x, dtype=float))
    return 4.0 * s * (1.0 - s)
