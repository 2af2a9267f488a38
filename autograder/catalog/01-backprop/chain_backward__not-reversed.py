# kind: wrong
# exercise: chain_backward
# mistake: lists left in top-down order (not reversed)
# caught_by: chain_backward_values,chain_backward_scaling
# message: reverse order
def chain_backward(dout, cache):
    activations, weights = cache["activations"], cache["weights"]
    d = dout
    dxs, dWs = [dout], []
    for k in range(len(weights) - 1, -1, -1):
        dWs.append(activations[k].T @ d)
        d = d @ weights[k].T
        dxs.append(d)
    return dxs, dWs
