# kind: wrong
# exercise: initial_loss
# mistake: expected value ln(1/C), forgetting the minus sign of -ln(1/C)
# caught_by: initial_loss_values
# message: -ln(1/C) = +ln(C)
def initial_loss(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean()), math.log(1.0 / logits.shape[1])
