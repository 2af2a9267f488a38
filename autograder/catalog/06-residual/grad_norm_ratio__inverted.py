# kind: wrong
# exercise: grad_norm_ratio
# mistake: ratio inverted (last layer over first)
# caught_by: grad_norm_ratio_values
# message: last / first
def grad_norm_ratio(model, params, x, y):
    out, cache, _ = model.forward(params, x, training=True)
    _, dout = losses.softmax_cross_entropy(out, y)
    grads = model.backward(dout, cache)
    return float(np.linalg.norm(grads[f"W{model.n_layers}"]) / np.linalg.norm(grads["W1"]))
