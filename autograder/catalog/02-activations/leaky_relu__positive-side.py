# kind: wrong
# exercise: leaky_relu
# mistake: slope applied to the positive side
# caught_by: leaky_relu_values
# message: positive side
def leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, negative_slope * x, x)
