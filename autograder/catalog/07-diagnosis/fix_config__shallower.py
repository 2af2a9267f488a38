# kind: wrong
# exercise: fix_config
# mistake: makes the network shallower instead of fixing it
# caught_by: fix_config_trains,fix_config_other_failures
# message: you changed depth
def fix_config(failing):
    config = dict(failing)
    config["depth"] = 2
    return config
