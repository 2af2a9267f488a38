# kind: wrong
# exercise: sigmoid
# mistake: sign error: 1 / (1 + exp(x))
# caught_by: sigmoid_values,sigmoid_stable
# message: sign error
def sigmoid(x):
    z = np.exp(-np.abs(x))
    return np.where(x < 0, 1.0 / (1.0 + z), z / (1.0 + z))
