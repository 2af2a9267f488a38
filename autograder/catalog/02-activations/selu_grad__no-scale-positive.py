# kind: wrong
# exercise: selu_grad
# mistake: 1 on the positive side instead of SELU_SCALE
# caught_by: selu_grad_values
# message: 1 on the positive side
def selu_grad(x):
    return np.where(x > 0, 1.0, SELU_SCALE * SELU_ALPHA * np.exp(np.minimum(x, 0.0)))
