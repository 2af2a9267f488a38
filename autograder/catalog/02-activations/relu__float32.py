# kind: wrong
# exercise: relu
# mistake: returns float32 (values rounded to 7 digits)
# caught_by: relu_values
# message: relu(x) has dtype float32
def relu(x):
    return np.maximum(x, 0.0).astype(np.float32)
