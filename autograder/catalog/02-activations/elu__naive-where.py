# kind: wrong
# exercise: elu
# mistake: np.where evaluates exp(x) for large positive x: overflow warning
# caught_by: elu_values
# message: not numerically stable
def elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * (np.exp(x) - 1.0))
