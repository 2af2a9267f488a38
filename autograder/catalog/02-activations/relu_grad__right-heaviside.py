# kind: right
# exercise: relu_grad
def relu_grad(x):
    return np.heaviside(x, 0.0)
