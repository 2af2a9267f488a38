# kind: wrong
# exercise: chain_backward
# mistake: dW[k] uses the layer's output activations[k+1] (off by one)
# caught_by: chain_backward_values
# message: not its output
def chain_backward(dout, cache):
    activations, weights = cache["activations"], cache["weights"]
    d = dout
    dxs, dWs = [dout], []
    for k in range(len(weights) - 1, -1, -1):
        dWs.append(activations[k + 1].T @ d)
        d = d @ weights[k].T
        dxs.append(d)
    return dxs[::-1], dWs[::-1]
