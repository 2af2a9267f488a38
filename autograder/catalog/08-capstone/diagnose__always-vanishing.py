# kind: wrong
# exercise: diagnose
# mistake: always answers vanishing
# caught_by: diagnose_exploding, diagnose_healthy
# message: expected
def diagnose(stats, losses):
    return "vanishing"
