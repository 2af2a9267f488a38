# kind: wrong
# exercise: prelu_forward
# mistake: PyTorch's initial slope 0.25 hard-coded instead of the alpha passed in
# caught_by: prelu_forward_values
# message: default slope 0.25
def prelu_forward(x, alpha):
    out = np.where(x > 0, x, 0.25 * x)
    return out, (x, alpha)
