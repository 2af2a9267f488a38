# kind: wrong
# exercise: selu
# mistake: ELU with SELU's alpha but without the scale
# caught_by: selu_values
# message: without SELU's scale
def selu(x):
    return np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))
