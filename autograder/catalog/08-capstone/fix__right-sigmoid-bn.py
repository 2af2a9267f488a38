# kind: right
# exercise: fix
def fix(depth, width):
    return {"activation": "sigmoid", "init": "xavier", "norm": "batchnorm", "lr": 0.1, "clip": None}
