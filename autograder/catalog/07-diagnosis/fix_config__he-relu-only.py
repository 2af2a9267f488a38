# kind: wrong
# exercise: fix_config
# mistake: He + ReLU without BatchNorm or clipping: too fragile at depth 12 with lr 0.1
# caught_by: fix_config_trains
def fix_config(failing):
    return {**failing, "activation": "relu", "initializer": "he_normal"}
