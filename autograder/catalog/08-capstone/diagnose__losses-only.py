# kind: wrong
# exercise: diagnose
# mistake: judges by the loss alone (healthy when it is below 2.4 or fell by 10 %), never looking at the layers
# caught_by: diagnose_vanishing
# message: expected 'vanishing'
def diagnose(stats, losses):
    if not np.all(np.isfinite(losses)):
        return "exploding"
    return "healthy" if losses[-1] < 0.9 * losses[0] or losses[-1] < 2.4 else "vanishing"
