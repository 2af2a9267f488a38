# kind: wrong
# exercise: activation_stds
# mistake: does not pass rng on to init (uses a new generator)
# caught_by: activation_stds_values
# message: pass the generator
def activation_stds(x, init, activation, widths, *, rng):
    a = x
    stds = []
    for width in widths:
        a = activation(a @ init((a.shape[1], width), rng=np.random.default_rng()))
        stds.append(np.std(a))
    return np.array(stds)
