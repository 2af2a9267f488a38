# kind: right
# exercise: prelu_forward
def prelu_forward(x, alpha):
    out = x.copy()
    N, D = x.shape
    for n in range(N):
        for j in range(D):
            slope = alpha[0] if alpha.shape == (1,) else alpha[j]
            if out[n, j] <= 0:
                out[n, j] = slope * out[n, j]
    return out, (x, alpha)
