# kind: wrong
# exercise: output_scale
# mistake: scale * depth instead of scale ** depth
# caught_by: output_scale_values
# message: scale * depth
def output_scale(scale, depth):
    return float(scale * depth)
