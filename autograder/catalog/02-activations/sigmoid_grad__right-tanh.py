# kind: right
# exercise: sigmoid_grad
def sigmoid_grad(x):
    t = np.tanh(0.5 * np.asarray(x, dtype=float))
    return 0.25 * (1.0 - t * t)
