"""The custom layer in docs/engine.md runs as printed: gradient-checked and trained."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "engine.md"


def test_the_custom_layer_of_the_engine_page_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1 and "class PReLU(hg.Module)" in blocks[0]
    namespace: dict = {"__name__": "docs_engine"}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)  # its asserts are the checks
    out = capsys.readouterr().out
    assert "PASSED" in out and "1.alpha" in out
    assert namespace["history"].metrics["accuracy"][-1] > 0.9
