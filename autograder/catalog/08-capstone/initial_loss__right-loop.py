# kind: right
# exercise: initial_loss
def initial_loss(logits, y):
    total = 0.0
    for row, label in zip(logits, y):
        m = row.max()
        total += m + math.log(sum(math.exp(v - m) for v in row)) - row[label]
    return total / len(y), float(np.log(logits.shape[1]))
