# kind: wrong
# exercise: sigmoid
# mistake: stable, but overwrites x in place
# caught_by: sigmoid_values
# message: modified its input x
def sigmoid(x):
    z = np.exp(-np.abs(x))
    pos = x >= 0
    x[...] = np.where(pos, 1.0 / (1.0 + z), z / (1.0 + z))
    return x
