# kind: right
# exercise: output_scale
def output_scale(scale, depth):
    result = 1.0
    for _ in range(depth):
        result *= scale
        if math.isinf(result):
            break
    return result
