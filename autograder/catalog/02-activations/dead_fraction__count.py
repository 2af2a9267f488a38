# kind: wrong
# exercise: dead_fraction
# mistake: returns the count of dead units, not the fraction
# caught_by: dead_fraction_values
# message: count
def dead_fraction(pre_activations):
    return int(np.sum(np.all(pre_activations <= 0, axis=0)))
