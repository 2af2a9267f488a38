# kind: wrong
# exercise: activation_stds
# mistake: includes the input's std (L + 1 values, off by one)
# caught_by: activation_stds_values
# message: without the input's
def activation_stds(x, init, activation, widths, *, rng):
    a = x
    stds = [np.std(x)]
    for width in widths:
        a = activation(a @ init((a.shape[1], width), rng=rng))
        stds.append(np.std(a))
    return np.array(stds)
