# kind: wrong
# exercise: affine_forward
# mistake: returns only out, no cache
# caught_by: affine_forward_values
# message: (out, cache)
def affine_forward(x, W, b):
    return x @ W + b
