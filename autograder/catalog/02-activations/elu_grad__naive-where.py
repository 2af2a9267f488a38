# kind: wrong
# exercise: elu_grad
# mistake: np.where evaluates exp(x) for large positive x: overflow warning
# caught_by: elu_grad_values
# message: not numerically stable
def elu_grad(x, alpha=1.0):
    return np.where(x > 0, 1.0, alpha * np.exp(x))
