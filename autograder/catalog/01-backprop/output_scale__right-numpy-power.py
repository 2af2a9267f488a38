# kind: right
# exercise: output_scale
def output_scale(scale, depth):
    with np.errstate(over="ignore"):
        return float(np.power(np.float64(scale), depth))
