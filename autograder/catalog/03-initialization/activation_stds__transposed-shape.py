# kind: wrong
# exercise: activation_stds
# mistake: asks init for a (fan_out, fan_in) weight and transposes it
# caught_by: activation_stds_values
# message: transposed
def activation_stds(x, init, activation, widths, *, rng):
    a = x
    stds = []
    for width in widths:
        W = init((width, a.shape[1]), rng=rng).T
        a = activation(a @ W)
        stds.append(np.std(a))
    return np.array(stds)
