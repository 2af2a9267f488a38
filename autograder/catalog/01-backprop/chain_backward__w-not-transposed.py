# kind: wrong
# exercise: chain_backward
# mistake: da[k-1] = da[k] @ W instead of W.T
# caught_by: chain_backward_values
# message: raised ValueError
def chain_backward(dout, cache):
    activations, weights = cache["activations"], cache["weights"]
    d = dout
    dxs, dWs = [dout], []
    for k in range(len(weights) - 1, -1, -1):
        dWs.append(activations[k].T @ d)
        d = d @ weights[k]
        dxs.append(d)
    return dxs[::-1], dWs[::-1]
