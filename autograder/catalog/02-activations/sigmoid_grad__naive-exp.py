# kind: wrong
# exercise: sigmoid_grad
# mistake: exp(-x) / (1 + exp(-x))**2 overflows for large |x|
# caught_by: sigmoid_grad_values
# message: not numerically stable
def sigmoid_grad(x):
    e = np.exp(-x)
    return e / (1.0 + e) ** 2
