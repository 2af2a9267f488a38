# kind: right
# exercise: fix
def fix(depth, width):
    # BatchNorm makes network B's own learning rate safe
    return {"init": "he", "activation": "relu", "norm": "batchnorm", "lr": 0.5}
