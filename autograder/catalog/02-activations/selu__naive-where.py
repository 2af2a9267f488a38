# kind: wrong
# exercise: selu
# mistake: np.where with exp(x) overflows for large positive x
# caught_by: selu_values
# message: not numerically stable
def selu(x):
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1.0))
