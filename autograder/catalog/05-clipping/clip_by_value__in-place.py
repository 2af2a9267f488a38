# kind: wrong
# exercise: clip_by_value
# mistake: clips the input arrays in place (np.clip(..., out=g)) and returns them
# caught_by: clip_by_value_values, clip_by_value_containers
# message: in place
def clip_by_value(grads, clip_value):
    values = grads.values() if isinstance(grads, dict) else grads
    for g in values:
        np.clip(g, -clip_value, clip_value, out=g)
    return grads
