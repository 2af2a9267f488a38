# kind: right
# exercise: compute_fans
def compute_fans(shape):
    receptive = 1
    for d in shape[:-2]:
        receptive *= d
    fan_in = receptive * shape[-2]
    fan_out = receptive * shape[-1]
    return (int(fan_in), int(fan_out))
