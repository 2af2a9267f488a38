# kind: wrong
# exercise: sgd_step
# mistake: multiplies the gradients by lr before clipping them
# caught_by: sgd_step_clipping
# message: before clipping
def sgd_step(params, grads, *, lr, clip=None, threshold=None):
    if isinstance(grads, dict):
        scaled = {k: lr * g for k, g in grads.items()}
    else:
        scaled = type(grads)(lr * g for g in grads)
    if clip is None:
        steps = scaled
    elif clip == "value":
        steps = clip_by_value(scaled, threshold)
    elif clip == "norm":
        steps = clip_by_norm(scaled, threshold)
    elif clip == "global_norm":
        steps, _ = clip_by_global_norm(scaled, threshold)
    else:
        raise ValueError(f"clip={clip!r} is not one of None, 'value', 'norm', 'global_norm'")
    if isinstance(params, dict):
        return {k: p - steps[k] for k, p in params.items()}
    new = [p - s for p, s in zip(params, steps)]
    return tuple(new) if isinstance(params, tuple) else new
