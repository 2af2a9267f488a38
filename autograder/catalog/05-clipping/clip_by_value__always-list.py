# kind: wrong
# exercise: clip_by_value
# mistake: container type changed: always returns a list (a dict's keys are lost)
# caught_by: clip_by_value_containers
# message: same container type
def clip_by_value(grads, clip_value):
    values = grads.values() if isinstance(grads, dict) else grads
    return [np.clip(g, -clip_value, clip_value) for g in values]
