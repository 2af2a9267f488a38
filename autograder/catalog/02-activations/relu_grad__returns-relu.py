# kind: wrong
# exercise: relu_grad
# mistake: returns relu(x) instead of its derivative
# caught_by: relu_grad_values
# message: not its derivative
def relu_grad(x):
    return np.maximum(x, 0.0)
