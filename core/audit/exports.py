"""Chains as JSON Lines for an outside auditor (SECURITY §3.4 ``--export``).

The file holds one ``export`` line (format, deployment id, chains), one
``event`` line per event with every stored column, and one ``checkpoint`` line
per line of the checkpoint files (``record`` is null for an unreadable line).
``tools/verify_export.py`` checks such a file with the Python standard library
alone, given the audit key for the checkpoints.
"""

from __future__ import annotations

import json

from core.audit import checkpoints, verify
from core.storage import utcnow

FORMAT = 1


def _line(handle, obj) -> None:
    handle.write(json.dumps(obj, ensure_ascii=False, sort_keys=True))
    handle.write("\n")


def write(path, chain_ids, *, checkpoint_dir) -> int:
    """Write ``chain_ids`` and every checkpoint line to ``path``; returns the event count."""
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        _line(handle, {"type": "export", "format": FORMAT, "deployment_id": verify.deployment_id(),
                       "chains": list(chain_ids),
                       "created": utcnow().isoformat(timespec="seconds") + "Z"})
        for chain_id in chain_ids:
            for row in verify.rows(chain_id):
                _line(handle, {"type": "event", **dict(zip(verify.COLUMNS, row, strict=True))})
                count += 1
        for source, record in checkpoints.read_lines(checkpoint_dir):
            _line(handle, {"type": "checkpoint", "source": source, "record": record})
    return count
