# kind: wrong
# exercise: elu_grad
# mistake: derivative 1 at x = 0 (x >= 0); autograd gives alpha
# caught_by: elu_grad_values
# message: kink
def elu_grad(x, alpha=1.0):
    return np.where(x >= 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))
