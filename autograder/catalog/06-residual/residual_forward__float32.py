# kind: wrong
# exercise: residual_forward
# mistake: computes the block in float32 (to save memory), so out keeps only about 7 digits
# caught_by: residual_forward_values
# message: float32
def residual_forward(x, W1, b1, W2, b2, *, activation="relu"):
    x32, W1_32, W2_32 = x.astype(np.float32), W1.astype(np.float32), W2.astype(np.float32)
    h, cache1 = layers.affine_forward(x32, W1_32, b1.astype(np.float32))
    a, cache_act = layers.activation_forward(h, activation)
    branch, cache2 = layers.affine_forward(a, W2_32, b2.astype(np.float32))
    return x32 + branch, (cache1, cache_act, cache2)
