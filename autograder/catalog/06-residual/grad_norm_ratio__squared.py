# kind: wrong
# exercise: grad_norm_ratio
# mistake: sums of squares instead of norms (the ratio squared)
# caught_by: grad_norm_ratio_values
# message: squared norms
def grad_norm_ratio(model, params, x, y):
    out, cache, _ = model.forward(params, x, training=True)
    _, dout = losses.softmax_cross_entropy(out, y)
    grads = model.backward(dout, cache)
    return float(np.sum(grads["W1"] ** 2) / np.sum(grads[f"W{model.n_layers}"] ** 2))
