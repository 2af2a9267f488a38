# kind: wrong
# exercise: fix_config
# mistake: only adds gradient clipping (does not cure vanishing or saturation)
# caught_by: fix_config_trains
# message: Clipping alone
def fix_config(failing):
    config = dict(failing)
    config["clip"] = "global_norm"
    config["clip_value"] = 1.0
    return config
