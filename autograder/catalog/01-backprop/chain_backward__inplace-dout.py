# kind: wrong
# exercise: chain_backward
# mistake: d @= W.T starting from d = dout writes into dout
# caught_by: chain_backward_values,chain_backward_scaling
# message: modified its input dout
def chain_backward(dout, cache):
    activations, weights = cache["activations"], cache["weights"]
    d = dout
    dxs, dWs = [dout.copy()], []
    for k in range(len(weights) - 1, -1, -1):
        dWs.append(activations[k].T @ d)
        if weights[k].shape[0] == weights[k].shape[1]:
            d @= weights[k].T
        else:
            d = d @ weights[k].T
        dxs.append(d.copy())
    return dxs[::-1], dWs[::-1]
