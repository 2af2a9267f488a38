# kind: wrong
# exercise: chain_backward
# mistake: dxs has only L entries (dout left out)
# caught_by: chain_backward_values,chain_backward_scaling
# message: dxs[L] = dout
def chain_backward(dout, cache):
    activations, weights = cache["activations"], cache["weights"]
    d = dout
    dxs, dWs = [], []
    for k in range(len(weights) - 1, -1, -1):
        dWs.append(activations[k].T @ d)
        d = d @ weights[k].T
        dxs.append(d)
    return dxs[::-1], dWs[::-1]
