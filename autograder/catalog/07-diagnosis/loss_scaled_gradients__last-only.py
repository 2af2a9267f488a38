# kind: wrong
# exercise: loss_scaled_gradients
# mistake: looks for inf only in the last gradient, so an overflow in an earlier layer is missed
# caught_by: loss_scaled_gradients_overflow
# message: only the first gradient overflows
def loss_scaled_gradients(backward, dout, scale):
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = (np.asarray(dout, dtype=np.float32) * np.float32(scale)).astype(np.float16)
        grads = [np.asarray(g).astype(np.float32) / np.float32(scale) for g in backward(scaled)]
    return grads, bool(not np.all(np.isfinite(grads[-1])))
