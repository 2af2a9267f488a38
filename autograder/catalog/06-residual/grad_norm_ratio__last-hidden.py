# kind: wrong
# exercise: grad_norm_ratio
# mistake: off by one: compares with the last hidden layer W_L instead of the output layer W_{L+1}
# caught_by: grad_norm_ratio_values
# message: last hidden layer
def grad_norm_ratio(model, params, x, y):
    out, cache, _ = model.forward(params, x, training=True)
    _, dout = losses.softmax_cross_entropy(out, y)
    grads = model.backward(dout, cache)
    return float(np.linalg.norm(grads["W1"]) / np.linalg.norm(grads[f"W{model.depth}"]))
