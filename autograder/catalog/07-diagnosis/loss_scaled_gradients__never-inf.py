# kind: wrong
# exercise: loss_scaled_gradients
# mistake: never reports an overflow (found_inf always False)
# caught_by: loss_scaled_gradients_overflow
# message: found_inf is False
def loss_scaled_gradients(backward, dout, scale):
    with np.errstate(over="ignore", invalid="ignore"):
        d16 = (np.asarray(dout, dtype=np.float32) * scale).astype(np.float16)
        grads = [g.astype(np.float32) / np.float32(scale) for g in backward(d16)]
    return grads, False
