# kind: right
# exercise: fix
def fix(depth, width):
    # SELU's fixed point keeps the scale without normalization; LeCun's init is the one it assumes
    return {"activation": "selu", "init": "lecun", "lr": 0.05}
