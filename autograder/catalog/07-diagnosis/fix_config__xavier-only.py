# kind: wrong
# exercise: fix_config
# mistake: only switches the initializer to Xavier (the sigmoid network still vanishes)
# caught_by: fix_config_trains
def fix_config(failing):
    config = dict(failing)
    config["initializer"] = "xavier_normal"
    return config
