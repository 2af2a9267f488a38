# kind: wrong
# exercise: sgd_step
# mistake: updates the parameters in place (p -= lr * g) and returns them
# caught_by: sgd_step_clipping, sgd_step_contract
# message: in place
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
    keys = list(params) if isinstance(params, dict) else range(len(params))
    for k in keys:
        params[k] -= lr * clipped[k]
    return params
