# kind: wrong
# exercise: residual_forward
# mistake: the activation argument is ignored (always ReLU)
# caught_by: residual_forward_values
# message: ignored the activation argument
def residual_forward(x, W1, b1, W2, b2, *, activation="relu"):
    h, cache1 = layers.affine_forward(x, W1, b1)
    a, cache_act = layers.activation_forward(h, "relu")
    branch, cache2 = layers.affine_forward(a, W2, b2)
    return x + branch, (cache1, cache_act, cache2)
