# kind: right
# exercise: chain_backward
def chain_backward(dout, cache):
    activations, weights = cache["activations"], cache["weights"]
    L = len(weights)
    dxs = [None] * L + [np.array(dout, dtype=float)]
    dWs = [None] * L
    for k in reversed(range(L)):
        dWs[k] = np.einsum("ni,nj->ij", activations[k], dxs[k + 1])
        dxs[k] = np.einsum("nj,ij->ni", dxs[k + 1], weights[k])
    return dxs, dWs
