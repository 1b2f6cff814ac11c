"""Where a key of a TOML document is written: its line number, for error messages.

The standard library's ``tomllib`` returns plain dicts without positions, so a message
about a parsed value ("unknown GAN 'dcgn'") could not say where the value is. This
module scans the text itself for table headers (``[a.b]``, ``[[a.b]]``) and key lines
(``key = ...``, ``a.b = ...``) and records the line of every key path it sees.

Key paths are tuples of keys and, for arrays of tables, 0-based element indices:
``("profiles", "smoke", "variants", 1, "image_size")``. Not a TOML parser: it assumes
the text parsed (``tomllib`` said so first) and is good enough for key lines; a key
inside an inline table or a multi-line value resolves to the line of the nearest
enclosing key it found (:func:`line_of`).
"""

from __future__ import annotations

import re
from typing import Optional, Sequence, Union

KeyPath = tuple[Union[str, int], ...]

_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_DOTTED})\s*\]\]")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=")
_PART_RE = re.compile(_PART)


def _keys(dotted: str) -> list[str]:
    """``a."b.c".d`` -> ``["a", "b.c", "d"]`` (quotes removed; escapes in quoted keys
    are kept as written, which only matters for keys no suite file has)."""
    parts = []
    for match in _PART_RE.finditer(dotted):
        part = match.group(0)
        parts.append(part[1:-1] if part[:1] in "\"'" else part)
    return parts


def key_lines(text: str) -> dict[KeyPath, int]:
    """Every key path of ``text`` (tables, their keys, implicit parent tables) -> the
    1-based line where it first appears. Lines inside multi-line strings are skipped."""
    lines: dict[KeyPath, int] = {}
    #: Array-of-tables path -> how many elements its headers have opened so far.
    arrays: dict[KeyPath, int] = {}
    current: KeyPath = ()
    in_string: Optional[str] = None

    def resolved(keys: Sequence[str]) -> KeyPath:
        """A header's keys with the index of the latest element of every array of
        tables on the way (``[a.b]`` after ``[[a]]`` is a table of a's last element)."""
        path: KeyPath = ()
        for key in keys:
            path += (key,)
            if path in arrays:
                path += (arrays[path] - 1,)
        return path

    def note(path: KeyPath, number: int) -> None:
        for end in range(1, len(path) + 1):
            lines.setdefault(path[:end], number)

    for number, line in enumerate(text.splitlines(), start=1):
        if in_string is None:
            array = _ARRAY_HEADER.match(line)
            table = None if array else _TABLE_HEADER.match(line)
            key = None if array or table else _KEY_LINE.match(line)
            if array:
                keys = _keys(array.group(1))
                base = resolved(keys[:-1]) + (keys[-1],)
                arrays[base] = arrays.get(base, 0) + 1
                current = base + (arrays[base] - 1,)
                note(current, number)
            elif table:
                current = resolved(_keys(table.group(1)))
                note(current, number)
            elif key:
                note(current + tuple(_keys(key.group(1))), number)
        # A multi-line string opens or closes on this line when its delimiter appears
        # an odd number of times (a key line may open one after its '=').
        for delimiter in ('"""', "'''"):
            if in_string in (None, delimiter) and line.count(delimiter) % 2:
                in_string = None if in_string == delimiter else delimiter
    return lines


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> Optional[int]:
    """The line of ``path``, else of its longest prefix that has one (a list element
    is on its key's line); None when not even the first key was found."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None
