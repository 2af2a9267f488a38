# kind: right
# exercise: affine_forward
def affine_forward(x, W, b):
    N, D = x.shape
    M = W.shape[1]
    out = np.zeros((N, M))
    for n in range(N):
        for j in range(M):
            out[n, j] = sum(x[n, i] * W[i, j] for i in range(D)) + b[j]
    return out, (x, W, b)
