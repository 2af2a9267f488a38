# kind: wrong
# exercise: loss_scaled_gradients
# mistake: returns float16 gradients (unscaled in float16, no float32 master copy)
# caught_by: loss_scaled_gradients_values
# message: float32
def loss_scaled_gradients(backward, dout, scale):
    with np.errstate(over="ignore", invalid="ignore"):
        d16 = (np.asarray(dout, dtype=np.float32) * scale).astype(np.float16)
        grads = [g / np.float16(scale) for g in backward(d16)]
    return grads, not all(np.isfinite(g).all() for g in grads)
