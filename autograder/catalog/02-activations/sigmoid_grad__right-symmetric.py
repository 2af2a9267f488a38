# kind: right
# exercise: sigmoid_grad
def sigmoid_grad(x):
    return sigmoid(x) * sigmoid(-x)
