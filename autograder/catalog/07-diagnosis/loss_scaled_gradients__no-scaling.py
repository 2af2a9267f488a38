# kind: wrong
# exercise: loss_scaled_gradients
# mistake: no loss scaling at all (the float16 backward pass underflows)
# caught_by: loss_scaled_gradients_values,loss_scaled_gradients_overflow
# message: no loss scaling
def loss_scaled_gradients(backward, dout, scale):
    with np.errstate(over="ignore", invalid="ignore"):
        grads = [g.astype(np.float32) for g in backward(np.asarray(dout).astype(np.float16))]
    return grads, not all(np.isfinite(g).all() for g in grads)
