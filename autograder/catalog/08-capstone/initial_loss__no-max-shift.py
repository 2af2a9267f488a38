# kind: wrong
# exercise: initial_loss
# mistake: softmax without subtracting the row maximum: exp overflows for the logits of a broken network
# caught_by: initial_loss_values
# message: exp overflowed
def initial_loss(logits, y):
    p = np.exp(logits)
    p = p / p.sum(axis=1, keepdims=True)
    return float(-np.log(p[np.arange(len(y)), y]).mean()), math.log(logits.shape[1])
