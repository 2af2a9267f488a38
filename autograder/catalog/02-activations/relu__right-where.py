# kind: right
# exercise: relu
def relu(x):
    return np.where(x > 0, x, 0.0)
