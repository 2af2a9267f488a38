# kind: wrong
# exercise: diagnose
# mistake: ignores the losses and counts only vanishing verdicts: a diverged network full of nan is called healthy
# caught_by: diagnose_exploding
# message: expected 'exploding'
def diagnose(stats, losses):
    verdicts = [v.verdict for v in diagnostics.health_report(stats)]
    return "vanishing" if verdicts.count("vanishing") > len(verdicts) / 2 else "healthy"
