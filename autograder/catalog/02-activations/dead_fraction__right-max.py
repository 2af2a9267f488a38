# kind: right
# exercise: dead_fraction
def dead_fraction(pre_activations):
    h = np.asarray(pre_activations)
    return float((h.max(axis=0) <= 0).sum() / h.shape[1])
