# kind: wrong
# exercise: fix
# mistake: tries to make the network shallower by returning a depth
# caught_by: fix_accuracy
# message: do not reshape it
def fix(depth, width):
    return {"activation": "relu", "init": "he", "lr": 0.1, "depth": 1}
