# kind: wrong
# exercise: dead_fraction
# mistake: fraction of entries <= 0 instead of units dead on the whole batch
# caught_by: dead_fraction_values
# message: fraction of all entries
def dead_fraction(pre_activations):
    return float(np.mean(pre_activations <= 0))
