# kind: wrong
# exercise: leaky_relu_grad
# mistake: ignores negative_slope (hard-coded 0.01)
# caught_by: leaky_relu_grad_values
# message: default slope
def leaky_relu_grad(x, negative_slope=0.01):
    return np.where(x > 0, 1.0, 0.01)
