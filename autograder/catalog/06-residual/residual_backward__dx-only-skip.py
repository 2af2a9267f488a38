# kind: wrong
# exercise: residual_backward
# mistake: dx keeps only the skip path's dout and drops the branch
# caught_by: residual_backward_values,residual_backward_numerical
# message: only dout
def residual_backward(dout, cache):
    cache1, cache_act, cache2 = cache
    da, dW2, db2 = layers.affine_backward(dout, cache2)
    dh = layers.activation_backward(da, cache_act)
    _, dW1, db1 = layers.affine_backward(dh, cache1)
    return dout.copy(), dW1, db1, dW2, db2
