# kind: wrong
# exercise: selu_grad
# mistake: ELU's derivative without SELU's scale
# caught_by: selu_grad_values
# message: without SELU's scale
def selu_grad(x):
    return np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0.0)))
