# kind: wrong
# exercise: residual_forward
# mistake: the skip connection is missing (a plain two-layer block)
# caught_by: residual_forward_values,residual_forward_identity
# message: skip connection
def residual_forward(x, W1, b1, W2, b2, *, activation="relu"):
    h, cache1 = layers.affine_forward(x, W1, b1)
    a, cache_act = layers.activation_forward(h, activation)
    branch, cache2 = layers.affine_forward(a, W2, b2)
    return branch, (cache1, cache_act, cache2)
