# kind: wrong
# exercise: sgd_step
# mistake: wrong sign: moves along +gradient
# caught_by: sgd_step_clipping
# message: DEscent
def sgd_step(params, grads, *, lr, clip=None, threshold=None):
    if clip is None:
        clipped = grads
    elif clip == "value":
        clipped = clip_by_value(grads, threshold)
    elif clip == "norm":
        clipped = clip_by_norm(grads, threshold)
    elif clip == "global_norm":
        clipped, _ = clip_by_global_norm(grads, threshold)
    else:
        raise ValueError(f"clip={clip!r} is not one of None, 'value', 'norm', 'global_norm'")
    if isinstance(params, dict):
        return {k: p + lr * clipped[k] for k, p in params.items()}
    new = [p + lr * g for p, g in zip(params, clipped)]
    return tuple(new) if isinstance(params, tuple) else new
