# kind: wrong
# exercise: chain_forward
# mistake: multiplies by W.T
# caught_by: chain_forward_values
# message: raised ValueError
def chain_forward(x, weights):
    activations = [x]
    for W in weights:
        activations.append(activations[-1] @ W.T)
    return activations, {"activations": activations, "weights": weights}
