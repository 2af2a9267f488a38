# kind: wrong
# exercise: initial_loss
# mistake: sums the cross-entropy over the batch instead of averaging
# caught_by: initial_loss_values
# message: sum over the batch
def initial_loss(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].sum()), math.log(logits.shape[1])
