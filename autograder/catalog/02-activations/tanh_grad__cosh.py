# kind: wrong
# exercise: tanh_grad
# mistake: 1 / cosh(x)**2 overflows for large |x|
# caught_by: tanh_grad_values
# message: not numerically stable
def tanh_grad(x):
    return 1.0 / np.cosh(x) ** 2
