# kind: wrong
# exercise: fix
# mistake: ReLU + He + LayerNorm at lr 0.1 trains at 10 x 64 (visible test), not from most seeds at 12 x 48
# caught_by: fix_accuracy
# message: from some seeds and not from others
def fix(depth, width):
    return {"activation": "relu", "init": "he", "norm": "layernorm", "lr": 0.1}
