# kind: wrong
# exercise: sgd_step
# mistake: ignores clip (never clips the gradients)
# caught_by: sgd_step_clipping
# message: not clipped
def sgd_step(params, grads, *, lr, clip=None, threshold=None):
    if clip not in (None, "value", "norm", "global_norm"):
        raise ValueError(f"clip={clip!r} is not one of None, 'value', 'norm', 'global_norm'")
    if isinstance(params, dict):
        return {k: p - lr * grads[k] for k, p in params.items()}
    new = [p - lr * g for p, g in zip(params, grads)]
    return tuple(new) if isinstance(params, tuple) else new
