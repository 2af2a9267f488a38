# kind: right
# exercise: chain_backward
def chain_backward(dout, cache):
    activations, weights = cache["activations"], cache["weights"]
    dxs, dWs = [dout], []
    for W, a in zip(reversed(weights), reversed(activations[:-1])):
        dWs.insert(0, a.T @ dxs[0])
        dxs.insert(0, dxs[0] @ W.T)
    return dxs, dWs
