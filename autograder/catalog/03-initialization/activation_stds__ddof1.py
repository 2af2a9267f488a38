# kind: wrong
# exercise: activation_stds
# mistake: sample std with ddof=1
# caught_by: activation_stds_values
# message: ddof=1
def activation_stds(x, init, activation, widths, *, rng):
    a = x
    stds = []
    for width in widths:
        a = activation(a @ init((a.shape[1], width), rng=rng))
        stds.append(np.std(a, ddof=1))
    return np.array(stds)
