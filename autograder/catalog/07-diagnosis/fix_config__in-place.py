# kind: wrong
# exercise: fix_config
# mistake: modifies the failing configuration in place
# caught_by: fix_config_trains,fix_config_other_failures
# message: modified the failing configuration
def fix_config(failing):
    failing.update(activation="relu", initializer="he_normal", batchnorm=True)
    return failing
