# kind: wrong
# exercise: selu_grad
# mistake: SELU_SCALE at x = 0 (x >= 0)
# caught_by: selu_grad_values
# message: at the kink
def selu_grad(x):
    return SELU_SCALE * np.where(x >= 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0.0)))
