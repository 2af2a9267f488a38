# kind: right
# exercise: tanh_grad
def tanh_grad(x):
    t = np.tanh(x)
    return (1.0 - t) * (1.0 + t)
