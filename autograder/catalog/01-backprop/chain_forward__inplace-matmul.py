# kind: wrong
# exercise: chain_forward
# mistake: a @= W with a = x writes into x (in place)
# caught_by: chain_forward_values
# message: raised ValueError
def chain_forward(x, weights):
    a = x
    activations = [x.copy()]
    for W in weights:
        a @= W
        activations.append(a.copy())
    return activations, {"activations": activations, "weights": weights}
