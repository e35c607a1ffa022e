"""The explanations behind each hint, shipped with the package (a learner's course folder
has no docs/): ``explain("scale")``, ``explain("mse")``, ``handgrad exercise explain scale``.

``TEXT`` is the "Formulas" and "Diagnoses" sections of the project's docs/exercises.md, word
for word, read from explanations.md beside this module (a test keeps the two equal); a
section is found by its heading's anchor, the name a hint or a result shows (a diagnosis
code, or an exercise's formula section).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from importlib import resources

__all__ = ["Explanation", "explain", "sections", "TEXT"]


def anchor(heading: str) -> str:
    """The anchor of a Markdown heading, as GitHub makes it: "`n-minus-1`" -> "n-minus-1"."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def sections() -> dict[str, tuple[str, str]]:
    """anchor -> (heading, Markdown body) for every "###" section of TEXT."""
    found: dict[str, tuple[str, str]] = {}
    for chunk in re.split(r"^### ", TEXT, flags=re.M)[1:]:
        heading, _, body = chunk.partition("\n")
        body = re.split(r"^## ", body, flags=re.M)[0]
        found[anchor(heading)] = (heading.strip(), body.strip())
    return found


@dataclass(frozen=True)
class Explanation:
    """One section: prints as text, shows as HTML in a notebook."""

    name: str
    heading: str
    body: str

    def __str__(self) -> str:
        return f"{self.heading.replace('`', '')}\n\n{self.body}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f"<div>{markdown_html(f'#### {self.heading}')}{markdown_html(self.body)}</div>"


def markdown_html(text: str) -> str:
    """Our own Markdown (never a learner's) as HTML; escaped text if markdown-it is missing."""
    try:
        from markdown_it import MarkdownIt
    except ImportError:  # pragma: no cover - a core dependency
        return f'<pre style="white-space:pre-wrap">{html.escape(text)}</pre>'
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def explain(name: str) -> Explanation:
    """The explanation of a diagnosis code ("scale") or of an exercise's formulas ("mse")."""
    known = sections()
    key = anchor(name)
    if key not in known:
        from .catalogue import all_exercises

        docs = {e.name: e.doc for e in all_exercises()}
        key = docs.get(name, key)
    if key not in known:
        raise ValueError(
            f"nothing to explain under {name!r}; choose a diagnosis or an exercise: "
            f"{', '.join(sorted(known))}"
        )
    heading, body = known[key]
    return Explanation(key, heading, body)


# the docs' two sections, shipped as package data (a test keeps them equal to the docs)
TEXT = (resources.files(__package__) / "explanations.md").read_text(encoding="utf-8")
