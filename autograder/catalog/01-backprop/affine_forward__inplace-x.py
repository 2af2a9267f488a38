# kind: wrong
# exercise: affine_forward
# mistake: scales x in place (modifies its input)
# caught_by: affine_forward_values
# message: modified its input x
def affine_forward(x, W, b):
    x *= 1.0 + 1e-3
    out = x @ W / (1.0 + 1e-3) + b
    return out, (x / (1.0 + 1e-3), W, b)
