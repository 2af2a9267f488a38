# kind: wrong
# exercise: tanh_grad
# mistake: 1 - tanh(x), forgot the square
# caught_by: tanh_grad_values
# message: must be squared
def tanh_grad(x):
    return 1.0 - np.tanh(x)
