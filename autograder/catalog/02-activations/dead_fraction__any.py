# kind: wrong
# exercise: dead_fraction
# mistake: any example <= 0 instead of all
# caught_by: dead_fraction_values
# message: for any example
def dead_fraction(pre_activations):
    return float(np.mean(np.any(pre_activations <= 0, axis=0)))
