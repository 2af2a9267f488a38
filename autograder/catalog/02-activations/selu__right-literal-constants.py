# kind: right
# exercise: selu
def selu(x):
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946
    x = np.asarray(x, dtype=float)
    return scale * (np.maximum(x, 0.0) + alpha * np.expm1(np.minimum(x, 0.0)))
