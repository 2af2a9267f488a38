# kind: wrong
# exercise: diagnose
# mistake: tests "final loss > first loss" for exploding (false for nan, true for a stuck loss that wobbled up)
# caught_by: diagnose_vanishing, diagnose_exploding
# message: expected
def diagnose(stats, losses):
    if losses[-1] > losses[0]:
        return "exploding"
    verdicts = [v.verdict for v in diagnostics.health_report(stats)]
    return "vanishing" if verdicts.count("vanishing") > len(verdicts) / 2 else "healthy"
