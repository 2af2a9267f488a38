# kind: wrong
# exercise: selu
# mistake: rounded constants 1.0507 and 1.6733
# caught_by: selu_values
# message: full constants
def selu(x):
    return 1.0507 * np.where(x > 0, x, 1.6733 * np.expm1(np.minimum(x, 0.0)))
