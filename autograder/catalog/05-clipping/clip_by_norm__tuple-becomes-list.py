# kind: wrong
# exercise: clip_by_norm
# mistake: container type changed: a tuple comes back as a list
# caught_by: clip_by_norm_containers
# message: same container type
def clip_by_norm(grads, max_norm):
    def one(g):
        n = np.linalg.norm(g)
        return g * (max_norm / n) if n > max_norm else g.copy()

    if isinstance(grads, dict):
        return {k: one(g) for k, g in grads.items()}
    return [one(g) for g in grads]
