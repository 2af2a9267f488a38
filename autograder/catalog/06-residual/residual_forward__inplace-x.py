# kind: wrong
# exercise: residual_forward
# mistake: adds the branch into x in place (modifies the caller's input)
# caught_by: residual_forward_values
# message: in place
def residual_forward(x, W1, b1, W2, b2, *, activation="relu"):
    h, cache1 = layers.affine_forward(x, W1, b1)
    a, cache_act = layers.activation_forward(h, activation)
    branch, cache2 = layers.affine_forward(a, W2, b2)
    cache1 = (x.copy(), W1, b1)
    x += branch
    return x, (cache1, cache_act, cache2)
