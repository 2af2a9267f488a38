# kind: right
# exercise: residual_forward
def residual_forward(x, W1, b1, W2, b2, *, activation="relu"):
    h = np.einsum("nd,dh->nh", x, W1) + b1[None, :]
    a, cache_act = layers.activation_forward(h, activation)
    out = np.einsum("nh,hd->nd", a, W2) + b2[None, :]
    out = out + x
    return out, ((x, W1, b1), cache_act, (a, W2, b2))
