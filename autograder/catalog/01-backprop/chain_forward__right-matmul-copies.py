# kind: right
# exercise: chain_forward
def chain_forward(x, weights):
    a = np.array(x, dtype=float)
    activations = [a.copy()]
    for W in weights:
        a = np.matmul(a, W)
        activations.append(a.copy())
    return activations, {"activations": activations, "weights": list(weights)}
