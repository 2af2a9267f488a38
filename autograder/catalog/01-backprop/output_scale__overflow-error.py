# kind: wrong
# exercise: output_scale
# mistake: lets Python's OverflowError escape beyond float64
# caught_by: output_scale_values
# message: OverflowError
def output_scale(scale, depth):
    return float(scale) ** depth
