# kind: right
# exercise: initial_loss
def initial_loss(logits, y):
    loss = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(np.asarray(y, dtype=np.int64)))
    return loss.item(), -math.log(1.0 / logits.shape[1])
