# kind: right
# exercise: rel_error
def rel_error(a, b):
    diff = np.abs(a - b).max()
    scale = (np.abs(a) + np.abs(b)).max()
    return float(diff / np.maximum(scale, 1e-8))
