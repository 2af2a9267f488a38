# kind: right
# exercise: residual_forward
def residual_forward(x, W1, b1, W2, b2, *, activation="relu"):
    from gradlib import activations

    act = activations.get(activation)
    h = np.dot(x, W1) + b1
    a = act.fn(h)
    out = x + (np.dot(a, W2) + b2)
    return out, ((x, W1, b1), (h, act), (a, W2, b2))
