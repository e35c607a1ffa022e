"""The example tables of docs/gradcheck.md: run `python docs/examples/gradcheck_tables.py`.

A 2-8-8-1 ReLU network fit with Adam on two moons for 50 epochs, in float64 and in float32,
checked on 32 points; then the float32 one with one bias entry's sign flipped in a backward.
"""

import types

import numpy as np

import handgrad as hg
from handgrad.data.datasets import make_moons

X, y = make_moons(200, noise=0.1, seed=0)
loss = hg.BCEWithLogitsLoss()
for dtype in (np.float64, np.float32):
    model = hg.mlp([2, 8, 8, 1], "relu", seed=0, dtype=dtype)
    opt = hg.Adam(model.parameters(), lr=0.01)
    hg.fit(model, loss, opt, X.astype(dtype), y, epochs=50, batch_size=32, seed=0)
    print(f"--- {np.dtype(dtype).name}, after 50 epochs of Adam")
    print(hg.gradcheck(model, loss, X[:32].astype(dtype), y[:32]).table())


def backward(self, grad_y):
    dx = hg.Linear.backward(self, grad_y)
    self.bias.grad[3] = -self.bias.grad[3]  # one bias entry's sign flipped
    return dx


model[2].backward = types.MethodType(backward, model[2])
print("--- the same float32 model, one bias entry's sign flipped in layer 2's backward")
print(hg.gradcheck(model, loss, X[:32].astype(np.float32), y[:32]).table())
