# kind: wrong
# exercise: tanh_grad
# mistake: 1 - x**2 instead of 1 - tanh(x)**2
# caught_by: tanh_grad_values
# message: t = tanh(x)
def tanh_grad(x):
    return 1.0 - x**2
