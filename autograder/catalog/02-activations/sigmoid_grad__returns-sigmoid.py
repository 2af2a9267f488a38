# kind: wrong
# exercise: sigmoid_grad
# mistake: returns sigmoid(x) itself
# caught_by: sigmoid_grad_values
# message: not its derivative
def sigmoid_grad(x):
    return sigmoid(x)
