# kind: wrong
# exercise: chain_forward
# mistake: activations list leaves out x (L entries, off by one)
# caught_by: chain_forward_values
# message: activations[0] = x
def chain_forward(x, weights):
    activations = []
    a = x
    for W in weights:
        a = a @ W
        activations.append(a)
    return activations, {"activations": activations, "weights": weights}
