# kind: wrong
# exercise: prelu_forward
# mistake: scales the negative entries of x in place, modifying the caller's array
# caught_by: prelu_forward_values
# message: modified its input x
def prelu_forward(x, alpha):
    cache = (x.copy(), alpha)
    np.multiply(x, alpha, out=x, where=x <= 0)
    return x, cache
