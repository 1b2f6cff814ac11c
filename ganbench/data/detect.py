"""Which registered dataset reads the folder given to ``--data``.

Every dataset plugin that needs a path is asked (`Dataset.detect`). A layout
recognised by name (class folders, archive folder, file format) wins over a generic
reader; two specific matches are ambiguous and need ``--dataset``; no match at all is an
error that lists, for each dataset tried, why it did not match.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DatasetLayoutError
from ..registry import Registry
from ..specs import Detection


def detections(registry: Registry, path: Path) -> list[tuple[str, Detection]]:
    found = []
    for dataset, _ in registry.items("datasets"):
        if not dataset.needs_path:
            continue
        try:
            found.append((dataset.name, dataset.detect(path)))
        except Exception as exc:  # a third-party detector's bug must not hide the others
            found.append((dataset.name, Detection(False, f"its detector failed: {type(exc).__name__}: {exc}")))
    return sorted(found)


def detect_dataset(registry: Registry, path: Path) -> tuple[str, Detection]:
    path = Path(path).expanduser()
    if not path.exists():
        raise DatasetLayoutError(f"--data {path}: the path does not exist")
    found = detections(registry, path)
    specific = [(n, d) for n, d in found if d.matched and d.specific]
    generic = [(n, d) for n, d in found if d.matched and not d.specific]
    if len(specific) == 1:
        return specific[0]
    if len(specific) > 1:
        names = ", ".join(n for n, _ in specific)
        raise DatasetLayoutError(f"--data {path} matches several dataset layouts ({names}); choose one with --dataset NAME")
    if generic:
        return generic[0]
    tried = "\n".join(f"  {name}: {d.reason}" for name, d in found)
    raise DatasetLayoutError(f"no dataset layout matches {path}. Tried:\n{tried}")
