# kind: wrong
# exercise: residual_forward
# mistake: the second bias b2 is forgotten
# caught_by: residual_forward_values
# message: bias b2
def residual_forward(x, W1, b1, W2, b2, *, activation="relu"):
    h, cache1 = layers.affine_forward(x, W1, b1)
    a, cache_act = layers.activation_forward(h, activation)
    branch = a @ W2
    return x + branch, (cache1, cache_act, (a, W2, b2))
