# kind: right
# exercise: leaky_relu_grad
def leaky_relu_grad(x, negative_slope=0.01):
    pos = (x > 0).astype(float)
    return pos + negative_slope * (1.0 - pos)
