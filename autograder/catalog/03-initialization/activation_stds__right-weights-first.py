# kind: right
# exercise: activation_stds
def activation_stds(x, init, activation, widths, *, rng):
    dims = [x.shape[1]] + list(widths)
    weights = [init((dims[k], dims[k + 1]), rng=rng) for k in range(len(widths))]
    out = []
    a = x
    for W in weights:
        a = activation(np.dot(a, W))
        out.append(float(a.std()))
    return np.asarray(out)
