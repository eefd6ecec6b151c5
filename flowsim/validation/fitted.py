"""Which parameters of a config were fitted: the lines its authors marked `cal.`.

The validation report lists them beside the targets, so a reader can tell a figure the
model was tuned to from one that emerged. The mark is a convention of the shipped
configs: a comment saying `cal.` and what the value was fitted to, at the end of the
line, or on comment lines just above keys that carry no comment of their own.
"""

from __future__ import annotations

import re
from pathlib import Path

_LINE = re.compile(
    r"^(?P<indent>\s*)(?:- )?(?P<key>[A-Za-z_][\w.+-]*|\"[^\"]+\"):\s*(?P<value>[^#]*?)\s*(?:#\s*(?P<note>.*))?$"
)


def fitted_parameters(path: str | Path) -> list[tuple[str, str, str]]:
    """(dotted key, value, note) of every key of the config file marked `cal.`, in file
    order."""
    out: list[tuple[str, str, str]] = []
    parents: list[tuple[int, str]] = []  # (indent, key) of the mappings enclosing a line
    pending = ""  # a `cal.` note on the comment lines just above
    pending_indent = -1  # the indent of the keys it marks, once the first is seen
    after_comment = False
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped:
            pending, after_comment = "", False
            continue
        if stripped.startswith("#"):
            text = stripped.lstrip("#").strip()
            if not after_comment:
                pending = ""  # a new comment block
            after_comment = True
            if '"cal."' in text:  # a line about the mark, not a mark
                continue
            pending = f"{pending} {text}".strip() if pending or "cal." in text else ""
            pending_indent = -1
            continue
        after_comment = False
        m = _LINE.match(line)
        if not m:
            continue
        indent = len(m["indent"])
        while parents and parents[-1][0] >= indent:
            parents.pop()
        name = m["key"].strip('"')
        key = ".".join([k for _, k in parents] + [name])
        note = m["note"] or ""
        if pending and pending_indent >= 0 and indent != pending_indent:
            pending = ""  # the keys under the note have ended
        if not m["value"]:
            parents.append((indent, name))
            if "cal." in note:
                out.append((key, "", note))
            if pending and pending_indent < 0:
                pending_indent = indent + 2  # a note above a block marks its first keys
            continue
        if pending_indent < 0:
            pending_indent = indent
        if note:
            pending = ""
            if "cal." in note:
                out.append((key, m["value"], note))
        elif pending:
            out.append((key, m["value"], pending[pending.index("cal.") :]))
    return out
