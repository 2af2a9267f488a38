# kind: wrong
# exercise: relu
# mistake: x[x < 0] = 0 writes into the caller's array
# caught_by: relu_values
# message: modified its input x
def relu(x):
    x[x < 0] = 0.0
    return x
