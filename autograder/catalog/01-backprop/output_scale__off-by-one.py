# kind: wrong
# exercise: output_scale
# mistake: scale ** (depth - 1)
# caught_by: output_scale_values
# message: off by one
def output_scale(scale, depth):
    try:
        return float(scale) ** (depth - 1)
    except OverflowError:
        return math.inf
