import numpy as np

import handgrad as hg


def test_xor_trains_to_full_accuracy():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([0, 1, 1, 0])
    model = hg.mlp([2, 8, 1], seed=0)
    opt = hg.SGD(model.parameters(), lr=0.1, momentum=0.9)
    h = hg.fit(
        model,
        hg.BCEWithLogitsLoss(),
        opt,
        X,
        y,
        epochs=500,
        batch_size=4,
        seed=0,
        metrics=["accuracy"],
    )
    assert h.metrics["accuracy"][-1] == 1.0
