"""Small HTML helpers shared by the page and its sections: escaping, numbers, tables, embedded figures."""

from __future__ import annotations

import base64
import html
from typing import Dict, List, Optional

import contract
from report.metrics import finite


def e(value) -> str:
    return html.escape(str(value), quote=True)


def num(value, digits: int = 4) -> str:
    if not finite(value):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def pct(value) -> str:
    return f"{value:.1%}" if finite(value) else "n/a"


def img(figures: Dict[str, bytes], name: str, alt: str) -> str:
    if name not in figures:
        return ""
    data = base64.b64encode(figures[name]).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{e(alt)}" data-file="{e(name)}">'
            f'<figcaption>{e(alt)} (<a href="{e(name)}">{e(name)}</a>)</figcaption></figure>')


def table(header: List[str], rows: List[List[str]], cls: str = "", raw: bool = False,
          row_attrs: Optional[List[str]] = None) -> str:
    """`row_attrs`: raw attributes per row (e.g. ' class="differs"'), in row order."""
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    attrs = row_attrs or [""] * len(rows)
    body = "".join(f"<tr{a}>" + "".join(c if raw else f"<td>{e(c)}</td>" for c in row) + "</tr>"
                   for row, a in zip(rows, attrs))
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def ordered_splits(splits) -> List[str]:
    """contract's splits in the order a dataset is used, then any others."""
    return [s for s in contract.SPLITS if s in splits] + [s for s in splits if s not in contract.SPLITS]
