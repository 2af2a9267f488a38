# kind: wrong
# exercise: chain_forward
# mistake: returns only the output instead of the list of activations
# caught_by: chain_forward_values
# message: must be a list of arrays
def chain_forward(x, weights):
    a = x
    for W in weights:
        a = a @ W
    return a, {"activations": [x, a], "weights": weights}
