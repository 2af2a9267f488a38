# kind: wrong
# exercise: loss_scaled_gradients
# mistake: casts dout to float16 before multiplying by the scale (small values already underflowed)
# caught_by: loss_scaled_gradients_values
# message: before multiplying by the scale
def loss_scaled_gradients(backward, dout, scale):
    with np.errstate(over="ignore", invalid="ignore"):
        d16 = np.asarray(dout).astype(np.float16) * np.float16(scale)
        grads = [g.astype(np.float32) / np.float32(scale) for g in backward(d16)]
    return grads, not all(np.isfinite(g).all() for g in grads)
