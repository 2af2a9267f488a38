# kind: wrong
# exercise: fix
# mistake: keeps network B as it is (ReLU + He at lr 0.5, no normalization), which diverges
# caught_by: fix_accuracy
# message: exploded
def fix(depth, width):
    return {"activation": "relu", "init": "he", "lr": 0.5}
