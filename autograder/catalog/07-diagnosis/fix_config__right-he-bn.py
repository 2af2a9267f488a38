# kind: right
# exercise: fix_config
def fix_config(failing):
    config = failing.copy()
    config["activation"] = "relu"
    config["initializer"] = "he_normal"
    config["batchnorm"] = True
    return config
