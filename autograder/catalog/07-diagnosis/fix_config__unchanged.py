# kind: wrong
# exercise: fix_config
# mistake: returns the failing configuration unchanged
# caught_by: fix_config_trains,fix_config_other_failures
# message: changed nothing
def fix_config(failing):
    return dict(failing)
