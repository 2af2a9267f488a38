# kind: wrong
# exercise: elu_grad
# mistake: alpha * (exp(x) - 1) on the negative side: the function, not the derivative
# caught_by: elu_grad_values
# message: not its derivative
def elu_grad(x, alpha=1.0):
    return np.where(x > 0, 1.0, alpha * np.expm1(np.minimum(x, 0.0)))
