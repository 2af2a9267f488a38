# kind: right
# exercise: clip_by_global_norm
# Delegates to torch.nn.utils.clip_grad_norm_ on float64 tensors; returns a 0-d numpy value for the norm.
def clip_by_global_norm(grads, max_norm):
    keys = list(grads) if isinstance(grads, dict) else list(range(len(grads)))
    params = []
    for k in keys:
        p = torch.nn.Parameter(torch.zeros(np.shape(grads[k]), dtype=torch.float64))
        p.grad = torch.tensor(np.array(grads[k], dtype=np.float64))
        params.append(p)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    new = [p.grad.numpy().copy() for p in params]
    if isinstance(grads, dict):
        return dict(zip(keys, new)), total.numpy()
    return (tuple(new) if isinstance(grads, tuple) else new), total.numpy()
