# kind: wrong
# exercise: residual_forward
# mistake: activation applied after the addition (original ResNet's post-activation)
# caught_by: residual_forward_values,residual_forward_identity
# message: after adding x
def residual_forward(x, W1, b1, W2, b2, *, activation="relu"):
    h, cache1 = layers.affine_forward(x, W1, b1)
    a, cache_act = layers.activation_forward(h, activation)
    branch, cache2 = layers.affine_forward(a, W2, b2)
    out, _ = layers.activation_forward(x + branch, activation)
    return out, (cache1, cache_act, cache2)
