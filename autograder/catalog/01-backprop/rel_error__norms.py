# kind: wrong
# exercise: rel_error
# mistake: a norm-based relative error, ||a - b|| / (||a|| + ||b||)
# caught_by: rel_error_values
# message: norms
def rel_error(a, b):
    return float(np.linalg.norm(a - b) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b)))
