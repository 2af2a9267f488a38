# kind: wrong
# exercise: leaky_relu_grad
# mistake: 0 on the negative side (ReLU's derivative; reference mistake 8)
# caught_by: leaky_relu_grad_values
# message: ReLU's derivative
def leaky_relu_grad(x, negative_slope=0.01):
    return (x > 0).astype(float)
