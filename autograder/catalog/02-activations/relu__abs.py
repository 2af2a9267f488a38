# kind: wrong
# exercise: relu
# mistake: abs(x) instead of max(x, 0)
# caught_by: relu_values
# message: abs(x)
def relu(x):
    return np.abs(x)
