# kind: wrong
# exercise: fix
# mistake: only replaces the sigmoid network's init by Xavier; ten sigmoids still make the gradient vanish
# caught_by: fix_accuracy
# message: still vanish
def fix(depth, width):
    return {"activation": "sigmoid", "init": "xavier", "lr": 0.1}
