# kind: wrong
# exercise: leaky_relu
# mistake: ignores negative_slope (hard-coded 0.01)
# caught_by: leaky_relu_values
# message: default slope
def leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, 0.01 * x)
