# kind: wrong
# exercise: initial_loss
# mistake: expected value log10(C) instead of the natural log
# caught_by: initial_loss_values
# message: natural log
def initial_loss(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean()), math.log10(logits.shape[1])
