# kind: right
# exercise: fix_config
def fix_config(failing):
    config = dict(failing)
    config.update(activation="relu", initializer="he_normal", batchnorm=True, residual=True, zero_gamma=True)
    return config
