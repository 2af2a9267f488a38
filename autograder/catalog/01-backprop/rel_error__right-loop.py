# kind: right
# exercise: rel_error
def rel_error(a, b):
    worst_diff, worst_size = 0.0, 0.0
    for u, v in zip(np.ravel(a), np.ravel(b)):
        worst_diff = max(worst_diff, abs(u - v))
        worst_size = max(worst_size, abs(u) + abs(v))
    return worst_diff / max(1e-8, worst_size)
