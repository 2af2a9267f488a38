# kind: right
# exercise: selu_grad
def selu_grad(x):
    return SELU_SCALE * elu_grad(x, SELU_ALPHA)
