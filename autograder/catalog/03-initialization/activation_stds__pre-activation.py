# kind: wrong
# exercise: activation_stds
# mistake: std of the pre-activations a @ W
# caught_by: activation_stds_values
# message: pre-activations
def activation_stds(x, init, activation, widths, *, rng):
    a = x
    stds = []
    for width in widths:
        h = a @ init((a.shape[1], width), rng=rng)
        stds.append(np.std(h))
        a = activation(h)
    return np.array(stds)
