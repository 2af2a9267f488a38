# kind: wrong
# exercise: leaky_relu
# mistake: plain ReLU (negative side 0)
# caught_by: leaky_relu_values
# message: plain ReLU
def leaky_relu(x, negative_slope=0.01):
    return np.maximum(x, 0.0)
