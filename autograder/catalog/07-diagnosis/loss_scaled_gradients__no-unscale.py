# kind: wrong
# exercise: loss_scaled_gradients
# mistake: forgets to divide by the scale
# caught_by: loss_scaled_gradients_values
# message: forgot to unscale
def loss_scaled_gradients(backward, dout, scale):
    with np.errstate(over="ignore", invalid="ignore"):
        d16 = (np.asarray(dout, dtype=np.float32) * scale).astype(np.float16)
        grads = [g.astype(np.float32) for g in backward(d16)]
    return grads, not all(np.isfinite(g).all() for g in grads)
