# kind: right
# exercise: fix
def fix(depth, width):
    return dict(activation="tanh", init="xavier", lr=0.05)
