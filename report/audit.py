"""The data audit on the page: counts, then pictures side by side (each near-duplicate pair; each
suspected label with its suggestion; each outlier), from an audit folder (contract/audit.py)."""

from __future__ import annotations

import base64
import json
import os
from typing import Optional

from contract import audit as names
from report.markup import e, num

_STYLE = ("<style>.pairs{display:flex;flex-wrap:wrap;gap:12px}.pair{border:1px solid #ccc;padding:6px;"
          "font-size:12px;max-width:260px}.pair img{width:112px;height:112px;object-fit:contain;margin:2px}"
          ".pair code{word-break:break-all}</style>")


def read_summary(audit_dir: str) -> Optional[dict]:
    path = os.path.join(audit_dir, names.AUDIT_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _picture(audit_dir: str, name: str, alt: str) -> str:
    path = os.path.join(audit_dir, names.THUMBNAILS_DIR, name or "")
    if not name or not os.path.isfile(path):
        return f'<span class="muted">[{e(alt)}: no picture]</span>'
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return f'<img src="data:image/jpeg;base64,{data}" alt="{e(alt)}" title="{e(alt)}">'


def _gallery(title: str, section_id: str, cards) -> str:
    """A titled row of picture cards; "" when there are none."""
    if not cards:
        return ""
    return (f"<h3>{title}</h3><div class='pairs' id='{section_id}'>"
            + "".join(f"<div class='pair'>{card}</div>" for card in cards) + "</div>")


def _cards(audit_dir: str, summary: dict) -> str:
    shown = summary.get("shown", {})
    pairs = [f"{_picture(audit_dir, p['thumbnail_a'], p['source_a'])}"
             f"{_picture(audit_dir, p['thumbnail_b'], p['source_b'])}<br>similarity {num(p['similarity'], 3)}<br><code>{e(p['source_a'])}</code> ({e(p['split_a'])})<br>"
             f"<code>{e(p['source_b'])}</code> ({e(p['split_b'])})" for p in shown.get("near_duplicates", [])]
    issues = [f"{_picture(audit_dir, i['thumbnail'], i['source'])}<br>given <strong>{e(i['given'])}</strong>, "
              f"suggested <strong>{e(i['suggested'])}</strong> (score {num(i['score'], 3)})<br>"
              f"<code>{e(i['source'])}</code> ({e(i['split'])})" for i in shown.get("label_issues", [])]
    found = [f"{_picture(audit_dir, o['thumbnail'], o['source'])}<br>filed as {e(o['given'])} "
             f"(score {num(o['score'], 3)})<br><code>{e(o['source'])}</code> ({e(o['split'])})"
             for o in shown.get("outliers", [])]
    parts = [_gallery("Near-duplicate pairs", "audit-pairs", pairs),
             _gallery("Likely label errors", "audit-labels", issues),
             _gallery("Outliers (fit no class)", "audit-outliers", found)]
    return "".join(parts)


def audit_section(audit_dir: str) -> str:
    """The section's HTML ("" when there is no audit)."""
    summary = read_summary(audit_dir) if audit_dir else None
    if summary is None:
        return ""
    counts = (f"<p id='audit-counts' data-label-issues='{summary.get('label_issues', 0)}' "
              f"data-near-duplicates='{summary.get('near_duplicate_pairs', 0)}' "
              f"data-outliers='{summary.get('outliers', 0)}' data-leaked-test='{summary.get(names.LEAKED_TEST, 0)}'>"
              f"{summary.get('images', 0)} images: <strong>{summary.get('label_issues', 0)}</strong> likely label "
              f"errors, <strong>{summary.get('near_duplicate_pairs', 0)}</strong> near-duplicate pairs "
              f"(<strong>{summary.get(names.LEAKED_TEST, 0)}</strong> of {summary.get(names.TEST_IMAGES, 0)} test "
              f"images and {summary.get('leaked_validation', 0)} validation images have a near-copy in train), "
              f"<strong>{summary.get('outliers', 0)}</strong> outliers. Full lists: "
              + ", ".join(f"<a href='file://{e(os.path.join(audit_dir, f))}'><code>{e(f)}</code></a>"
                          for f in (names.LABEL_ISSUES_FILE, names.NEAR_DUPLICATES_FILE, names.OUTLIERS_FILE,
                                    names.LEAKS_FILE)) + f" in <code>{e(audit_dir)}</code>.</p>")
    return _STYLE + counts + _cards(audit_dir, summary)


def write_audit_page(audit_dir: str, path: str) -> str:
    """A page of its own for `snout audit`."""
    body = audit_section(audit_dir) or "<p>No audit found.</p>"
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"<!doctype html><html><head><meta charset='utf-8'><title>snout audit</title></head><body>"
                f"<h1>snout audit</h1><section id='audit'>{body}</section></body></html>")
    return path
