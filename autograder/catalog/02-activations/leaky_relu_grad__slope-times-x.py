# kind: wrong
# exercise: leaky_relu_grad
# mistake: slope * x on the negative side (the function, not the derivative)
# caught_by: leaky_relu_grad_values
# message: the function
def leaky_relu_grad(x, negative_slope=0.01):
    return np.where(x > 0, 1.0, negative_slope * x)
