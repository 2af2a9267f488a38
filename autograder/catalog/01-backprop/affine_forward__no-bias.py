# kind: wrong
# exercise: affine_forward
# mistake: forgot to add the bias b
# caught_by: affine_forward_values
# message: forgot to add the bias
def affine_forward(x, W, b):
    out = x @ W
    return out, (x, W, b)
