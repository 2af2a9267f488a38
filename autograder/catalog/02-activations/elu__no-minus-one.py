# kind: wrong
# exercise: elu
# mistake: alpha * exp(x) without the - 1
# caught_by: elu_values
# message: without the - 1
def elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0.0)))
