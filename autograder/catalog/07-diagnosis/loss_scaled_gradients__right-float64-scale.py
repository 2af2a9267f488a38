# kind: right
# exercise: loss_scaled_gradients
def loss_scaled_gradients(backward, dout, scale):
    with np.errstate(over="ignore", invalid="ignore"):
        d16 = np.asarray(np.asarray(dout, dtype=np.float64) * float(scale), dtype=np.float16)
        grads = [np.float32(1.0 / scale) * np.asarray(g, dtype=np.float32) for g in backward(d16)]
    return grads, bool(sum(np.count_nonzero(~np.isfinite(g)) for g in grads) > 0)
