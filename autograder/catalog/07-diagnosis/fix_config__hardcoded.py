# kind: wrong
# exercise: fix_config
# mistake: returns one hard-coded configuration (depth 12, width 32, lr 0.1) instead of fixing the one given
# caught_by: fix_config_trains
# message: you changed depth
def fix_config(failing):
    return {
        "depth": 12, "width": 32, "lr": 0.1, "activation": "relu", "initializer": "he_normal",
        "batchnorm": True, "residual": False, "zero_gamma": False, "clip": None, "clip_value": None,
    }  # fmt: skip
