# kind: wrong
# exercise: affine_forward
# mistake: uses W transposed (PyTorch's (out, in) layout)
# caught_by: affine_forward_values
# message: raised ValueError
def affine_forward(x, W, b):
    out = x @ W.T + b
    return out, (x, W, b)
