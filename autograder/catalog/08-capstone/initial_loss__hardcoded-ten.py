# kind: wrong
# exercise: initial_loss
# mistake: expected value ln(10) hard-coded instead of ln(C) for the number of logits
# caught_by: initial_loss_values
# message: whatever the number of classes
def initial_loss(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean()), math.log(10)
