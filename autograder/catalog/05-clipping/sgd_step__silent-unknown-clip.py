# kind: wrong
# exercise: sgd_step
# mistake: an unknown clip name silently means no clipping
# caught_by: sgd_step_contract
# message: must raise ValueError
def sgd_step(params, grads, *, lr, clip=None, threshold=None):
    if clip == "value":
        clipped = clip_by_value(grads, threshold)
    elif clip == "norm":
        clipped = clip_by_norm(grads, threshold)
    elif clip == "global_norm":
        clipped, _ = clip_by_global_norm(grads, threshold)
    else:
        clipped = grads
    if isinstance(params, dict):
        return {k: p - lr * clipped[k] for k, p in params.items()}
    new = [p - lr * g for p, g in zip(params, clipped)]
    return tuple(new) if isinstance(params, tuple) else new
