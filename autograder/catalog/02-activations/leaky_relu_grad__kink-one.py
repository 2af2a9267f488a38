# kind: wrong
# exercise: leaky_relu_grad
# mistake: derivative 1 at x = 0 (x >= 0); autograd gives the slope (reference mistake 8)
# caught_by: leaky_relu_grad_values
# message: at the kink
def leaky_relu_grad(x, negative_slope=0.01):
    return np.where(x >= 0, 1.0, negative_slope)
