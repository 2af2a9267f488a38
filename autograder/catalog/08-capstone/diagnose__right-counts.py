# kind: right
# exercise: diagnose
def diagnose(stats, losses):
    if np.isnan(losses).any() or np.isinf(losses).any():
        return "exploding"
    counts = {v: 0 for v in diagnostics.VERDICTS}
    for r in diagnostics.health_report(stats):
        counts[r.verdict] += 1
    if counts["exploding"]:
        return "exploding"
    stuck = counts["vanishing"] + counts["saturated"] + counts["dead"]
    return "vanishing" if 2 * stuck > len(stats) else "healthy"
