# kind: wrong
# exercise: prelu_forward
# mistake: ignores alpha: plain ReLU forward
# caught_by: prelu_forward_values
# message: plain ReLU
def prelu_forward(x, alpha):
    return np.maximum(x, 0.0), (x, alpha)
