# kind: right
# exercise: fix_config
def fix_config(failing):
    return {**failing, "activation": "relu", "initializer": "kaiming_normal", "clip": "global_norm", "clip_value": 1.0}
