"""A notebook calls ``handgrad.exercises.check`` and shows the result as HTML (run by nbclient)."""

from __future__ import annotations

import pytest

nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the test extra installs nbclient")

RIGHT = """import numpy as np

def backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2):
    a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
    A = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
    dz2 = A - Y
    dz1 = (dz2 @ W2.T) * a1 * (1 - a1)
    return {"dW1": X.T @ dz1, "db1": dz1.sum(axis=0, keepdims=True),
            "dW2": a1.T @ dz2, "db2": dz2.sum(axis=0, keepdims=True)}"""


@pytest.mark.slow
def test_a_notebook_shows_the_check_as_html(kernel_config):
    cells = [
        nbformat.v4.new_code_cell(RIGHT),
        nbformat.v4.new_code_cell(
            'import handgrad.exercises as ex\nex.check("backprop", backprop)'
        ),
        nbformat.v4.new_code_cell(
            "def backprop_mean(*args):\n    g = backprop(*args)\n"
            "    return {k: v / len(args[0]) for k, v in g.items()}\n"
            'ex.check("backprop", backprop_mean)'
        ),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", config=kernel_config()
    )
    client.execute()
    # the cell's value; a warning the kernel prints on stderr comes as a stream output
    checks = notebook.cells[1:]
    values = [[o for o in c.outputs if o["output_type"] == "execute_result"] for c in checks]
    assert all(len(v) == 1 for v in values), [c.outputs for c in checks]
    passed, failed = (v[0]["data"] for v in values)
    assert "backprop: passed (6/6 cases)" in passed["text/html"]
    assert "backprop: PASSED" in passed["text/plain"]
    assert "backprop: failed" in failed["text/html"]
    assert "<code>scale</code>" in failed["text/html"]
