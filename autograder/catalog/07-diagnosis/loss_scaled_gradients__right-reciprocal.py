# kind: right
# exercise: loss_scaled_gradients
def loss_scaled_gradients(backward, dout, scale):
    inv = np.float32(1.0) / np.float32(scale)
    with np.errstate(over="ignore", invalid="ignore"):
        d16 = np.multiply(dout, scale, dtype=np.float32).astype(np.float16)
        grads = []
        for g in backward(d16):
            grads.append(np.asarray(g, dtype=np.float32) * inv)
    found_inf = any(bool(np.isnan(g).any() or np.isinf(g).any()) for g in grads)
    return grads, found_inf
