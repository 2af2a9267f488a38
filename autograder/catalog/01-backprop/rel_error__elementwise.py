# kind: wrong
# exercise: rel_error
# mistake: returns the elementwise relative errors, not one number
# caught_by: rel_error_values
# message: one number
def rel_error(a, b):
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
