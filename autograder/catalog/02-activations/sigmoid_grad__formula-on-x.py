# kind: wrong
# exercise: sigmoid_grad
# mistake: applies s(1 - s) to x instead of sigmoid(x)
# caught_by: sigmoid_grad_values
# message: s = sigmoid(x)
def sigmoid_grad(x):
    return x * (1.0 - x)
