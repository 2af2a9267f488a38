# kind: right
# exercise: selu
def selu(x):
    return SELU_SCALE * elu(x, SELU_ALPHA)
