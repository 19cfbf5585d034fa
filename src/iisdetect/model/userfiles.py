"""Reading YAML files users hand us (tuning, QRadar mapping overrides, reference sets).

One place so every such file fails the same way: a ``UsageError`` naming what the file is, its path,
and either the OS error or the first line of the YAML error, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from iisdetect.errors import UsageError


def read_yaml(path: str | Path, what: str) -> Any:
    p = Path(path)
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{what} {p}: cannot read: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{what} {p}: invalid YAML: {str(exc).splitlines()[0]}") from None
