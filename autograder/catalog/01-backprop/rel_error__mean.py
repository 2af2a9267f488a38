# kind: wrong
# exercise: rel_error
# mistake: the mean difference instead of the largest
# caught_by: rel_error_values
# message: mean difference
def rel_error(a, b):
    return float(np.mean(np.abs(a - b)) / max(1e-8, np.max(np.abs(a) + np.abs(b))))
