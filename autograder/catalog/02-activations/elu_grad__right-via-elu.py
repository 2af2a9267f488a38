# kind: right
# exercise: elu_grad
def elu_grad(x, alpha=1.0):
    return np.where(x > 0, 1.0, elu(np.minimum(x, 0.0), alpha) + alpha)
