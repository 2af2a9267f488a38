# kind: wrong
# exercise: selu
# mistake: scale applied to the negative side only
# caught_by: selu_values
# message: negative side only
def selu(x):
    return np.where(x > 0, x, SELU_SCALE * SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))
