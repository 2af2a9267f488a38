# kind: wrong
# exercise: residual_backward
# mistake: db2 averaged over the batch instead of summed
# caught_by: residual_backward_values,residual_backward_numerical
# message: mean over the batch
def residual_backward(dout, cache):
    cache1, cache_act, cache2 = cache
    da, dW2, _ = layers.affine_backward(dout, cache2)
    dh = layers.activation_backward(da, cache_act)
    dx, dW1, db1 = layers.affine_backward(dh, cache1)
    return dout + dx, dW1, db1, dW2, dout.mean(axis=0)
