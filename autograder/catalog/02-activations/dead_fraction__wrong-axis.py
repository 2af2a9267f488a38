# kind: wrong
# exercise: dead_fraction
# mistake: reduces over units instead of examples (axis=1)
# caught_by: dead_fraction_values
# message: examples (rows)
def dead_fraction(pre_activations):
    return float(np.mean(np.all(pre_activations <= 0, axis=1)))
