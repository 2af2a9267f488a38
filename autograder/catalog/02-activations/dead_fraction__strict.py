# kind: wrong
# exercise: dead_fraction
# mistake: h < 0: a unit at exactly 0 is dead too (relu'(0) = 0)
# caught_by: dead_fraction_values
# message: h < 0
def dead_fraction(pre_activations):
    return float(np.mean(np.all(pre_activations < 0, axis=0)))
