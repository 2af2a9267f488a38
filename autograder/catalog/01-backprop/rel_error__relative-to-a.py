# kind: wrong
# exercise: rel_error
# mistake: divides by max|a| only, so the error is not symmetric in a and b
# caught_by: rel_error_values
# message: relative to a alone
def rel_error(a, b):
    return float(np.max(np.abs(a - b)) / max(1e-8, np.max(np.abs(a))))
