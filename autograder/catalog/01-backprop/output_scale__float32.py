# kind: wrong
# exercise: output_scale
# mistake: computes in float32 (inf already at 2**128)
# caught_by: output_scale_values
# message: output_scale(1.1, 37)
def output_scale(scale, depth):
    with np.errstate(over="ignore"):
        return float(np.float32(scale) ** np.float32(depth))
