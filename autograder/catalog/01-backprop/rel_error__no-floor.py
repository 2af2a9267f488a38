# kind: wrong
# exercise: rel_error
# mistake: no max(1e-8, ...) floor: two zero gradients give 0 / 0 = nan
# caught_by: rel_error_values
# message: floor
def rel_error(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(a) + np.abs(b)))
