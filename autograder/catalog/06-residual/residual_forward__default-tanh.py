# kind: wrong
# exercise: residual_forward
# mistake: the activation defaults to "tanh" instead of the lesson's "relu"
# caught_by: residual_forward_values
# message: defaults to 'tanh'
def residual_forward(x, W1, b1, W2, b2, *, activation="tanh"):
    h, cache1 = layers.affine_forward(x, W1, b1)
    a, cache_act = layers.activation_forward(h, activation)
    branch, cache2 = layers.affine_forward(a, W2, b2)
    return x + branch, (cache1, cache_act, cache2)
