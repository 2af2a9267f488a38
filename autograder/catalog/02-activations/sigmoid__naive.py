# kind: wrong
# exercise: sigmoid
# mistake: naive 1 / (1 + exp(-x)) overflows for x = -1e4 (reference mistake 9)
# caught_by: sigmoid_stable
# message: not numerically stable
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))
