# kind: wrong
# exercise: sigmoid
# mistake: exp(x) / (1 + exp(x)): inf / inf = nan for large x
# caught_by: sigmoid_stable
# message: overflow
def sigmoid(x):
    e = np.exp(x)
    return e / (1.0 + e)
