# kind: right
# exercise: grad_norm_ratio
def grad_norm_ratio(model, params, x, y):
    logits, cache, _ = model.forward(params, x)
    dlogits = losses.softmax_cross_entropy(logits, y)[1]
    grads = model.backward(dlogits, cache)
    weight_keys = sorted((k for k in grads if k.startswith("W")), key=lambda k: int(k[1:]))
    first, last = grads[weight_keys[0]], grads[weight_keys[-1]]
    return np.sqrt(np.sum(first * first)) / np.sqrt(np.sum(last * last))
