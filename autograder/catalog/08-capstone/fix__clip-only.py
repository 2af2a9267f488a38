# kind: wrong
# exercise: fix
# mistake: keeps network B at lr 0.5 and only adds clipping at norm 1: finite, but it does not learn
# caught_by: fix_accuracy
# message: below 0.75
def fix(depth, width):
    return {"activation": "relu", "init": "he", "lr": 0.5, "clip": 1.0}
