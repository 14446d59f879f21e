"""manifest.tsv / skipped.tsv / ignored.tsv: tab-separated rows whose fields map back exactly.

Escapes: backslash -> \\\\, tab -> \\t, newline -> \\n, carriage return -> \\r, a byte of a name
that is not valid UTF-8 -> \\xNN, any other control or separator character -> \\uNNNN.
`unescape` inverts it, so every row's path leads back to its file.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, List, Sequence

_NAMED = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNNAMED = {v: k for k, v in _NAMED.items()}
_ESCAPE = re.compile(r"\\(\\|t|n|r|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def _escape_char(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as os.fsdecode's surrogateescape gives it
        return f"\\x{code - 0xDC00:02x}"
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    return ch


def escape(field: str) -> str:
    return "".join(_escape_char(ch) for ch in str(field))


def _unescape_one(match: "re.Match[str]") -> str:
    token = match.group(0)
    if token in _UNNAMED:
        return _UNNAMED[token]
    if token[1] == "x":
        return chr(0xDC00 + int(token[2:], 16))
    return chr(int(token[2:], 16))


def unescape(field: str) -> str:
    return _ESCAPE.sub(_unescape_one, field)


def write(path: str, rows: Iterable[Sequence[object]]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write("\t".join(escape(str(c)) for c in row) + "\n")


def read(path: str) -> List[List[str]]:
    with open(path, encoding="utf-8", newline="\n") as f:
        return [[unescape(c) for c in line.rstrip("\n").split("\t")] for line in f]
