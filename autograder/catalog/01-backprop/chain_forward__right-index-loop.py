# kind: right
# exercise: chain_forward
def chain_forward(x, weights):
    L = len(weights)
    activations = [None] * (L + 1)
    activations[0] = x
    for k in range(1, L + 1):
        activations[k] = np.dot(activations[k - 1], weights[k - 1])
    return activations, {"activations": activations, "weights": weights}
