# kind: right
# exercise: diagnose
def diagnose(stats, losses):
    # straight from the statistics: nan or huge -> exploding; typical gradient << the last layer's -> vanishing
    if not np.isfinite(np.asarray(losses)).all():
        return "exploding"
    if any(not np.isfinite(s.grad_std) or not np.isfinite(s.act_std) or s.act_std > 100 for s in stats):
        return "exploding"
    ratios = np.array([s.grad_std for s in stats]) / stats[-1].grad_std
    if ratios.max() > 100:
        return "exploding"
    return "vanishing" if np.median(ratios) < 0.01 else "healthy"
