# kind: right
# exercise: dead_fraction
def dead_fraction(pre_activations):
    n, units = pre_activations.shape
    dead = 0
    for j in range(units):
        if all(pre_activations[i, j] <= 0 for i in range(n)):
            dead += 1
    return dead / units
