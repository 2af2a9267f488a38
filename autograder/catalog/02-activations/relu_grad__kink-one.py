# kind: wrong
# exercise: relu_grad
# mistake: relu'(0) = 1 (x >= 0) instead of 0
# caught_by: relu_grad_values
# message: relu'(0) = 1
def relu_grad(x):
    return (x >= 0).astype(float)
