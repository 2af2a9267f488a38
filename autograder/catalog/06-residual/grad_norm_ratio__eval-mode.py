# kind: wrong
# exercise: grad_norm_ratio
# mistake: forward in eval mode (BatchNorm uses fresh running statistics instead of the batch's)
# caught_by: grad_norm_ratio_values
def grad_norm_ratio(model, params, x, y):
    out, cache, _ = model.forward(params, x, training=False)
    _, dout = losses.softmax_cross_entropy(out, y)
    grads = model.backward(dout, cache)
    return float(np.linalg.norm(grads["W1"]) / np.linalg.norm(grads[f"W{model.n_layers}"]))
