# kind: wrong
# exercise: elu
# mistake: ignores alpha (always 1)
# caught_by: elu_values
# message: alpha = 1
def elu(x, alpha=1.0):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))
