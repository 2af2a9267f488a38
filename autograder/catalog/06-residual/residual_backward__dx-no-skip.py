# kind: wrong
# exercise: residual_backward
# mistake: dx forgets the skip path's dout
# caught_by: residual_backward_values,residual_backward_numerical
# message: missing the skip path
def residual_backward(dout, cache):
    cache1, cache_act, cache2 = cache
    da, dW2, db2 = layers.affine_backward(dout, cache2)
    dh = layers.activation_backward(da, cache_act)
    dx, dW1, db1 = layers.affine_backward(dh, cache1)
    return dx, dW1, db1, dW2, db2
