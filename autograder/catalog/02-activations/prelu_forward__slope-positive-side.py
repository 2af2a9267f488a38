# kind: wrong
# exercise: prelu_forward
# mistake: the slope multiplies the positive side instead of the negative side
# caught_by: prelu_forward_values
# message: positive side
def prelu_forward(x, alpha):
    out = np.where(x > 0, alpha * x, x)
    return out, (x, alpha)
