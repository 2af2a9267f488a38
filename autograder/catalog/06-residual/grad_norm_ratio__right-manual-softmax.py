# kind: right
# exercise: grad_norm_ratio
def grad_norm_ratio(model, params, x, y):
    out, cache, _ = model.forward(params, x, training=True)
    z = out - out.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    grads = model.backward(p / len(y), cache)
    norms = [np.linalg.norm(grads[f"W{k}"].ravel()) for k in range(1, model.n_layers + 1)]
    return norms[0] / norms[-1]
