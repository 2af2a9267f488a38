# kind: wrong
# exercise: prelu_forward
# mistake: computes in float32, losing precision (and the dtype) of float64 inputs
# caught_by: prelu_forward_values
# message: dtype float32
def prelu_forward(x, alpha):
    x32 = x.astype(np.float32)
    out = np.where(x32 > 0, x32, alpha.astype(np.float32) * x32)
    return out, (x, alpha)
