# kind: wrong
# exercise: loss_scaled_gradients
# mistake: divides by the scale in float16 (the gradients underflow again), then converts
# caught_by: loss_scaled_gradients_values
# message: divided by the scale in float16
def loss_scaled_gradients(backward, dout, scale):
    with np.errstate(over="ignore", invalid="ignore"):
        d16 = (np.asarray(dout, dtype=np.float32) * scale).astype(np.float16)
        grads = [(g / np.float16(scale)).astype(np.float32) for g in backward(d16)]
    return grads, not all(np.isfinite(g).all() for g in grads)
