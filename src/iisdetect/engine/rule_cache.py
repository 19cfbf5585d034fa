"""A per-user cache of compiled rulesets, so a hunt does not import pySigma and recompile every time.

Why: compiling the default ruleset through pySigma costs about a second (pySigma and its YAML
parse alone ~0.3 s to import) on every ``hunt``, most of a short run's wall time. The compiled
``CompiledRule`` list (with the load warnings and notes) is stored once per distinct input and
reused while nothing it depends on changed.

The key is the iisdetect version plus the path and content hash of every rule file read, and the
path, size and modification time of every file that shapes compilation (``engine/``, ``mapping/``,
``baseline/`` sources and data, and the installed pySigma package), so editing a rule, a mapping or
upgrading pySigma recompiles. The cache lives in ``$IISDETECT_CACHE_DIR``, else ``$XDG_CACHE_HOME/iisdetect``, else
``~/.cache/iisdetect`` (created 0700, files 0600, written atomically); a file not owned by the
user or writable by others is never loaded (it is a pickle). ``IISDETECT_NO_CACHE=1`` turns it off.
Any problem reading or writing the cache falls back to compiling: the cache can only save time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import pickle
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iisdetect import __version__
from iisdetect.engine import ir

_PACKAGE = Path(__file__).resolve().parents[1]
#: package folders whose files change what a rule compiles to
_SHAPING = ("engine", "mapping", "baseline")


@dataclass
class CachedReport:
    """What :func:`iisdetect.engine.ruleset.load_rules` returns, as the hunt uses it."""

    rules: list[ir.CompiledRule] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def cache_dir() -> Path:
    env = os.environ.get("IISDETECT_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "iisdetect"


def _rule_files(paths: Sequence[Path]) -> list[Path] | None:
    """The rule files ``ruleset.rule_files`` would read; None when a path is missing (the loader
    then raises its own one-line error)."""
    from iisdetect.rulesets import find_rule_files

    out, missing = find_rule_files(paths)
    return None if missing is not None else out


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{path}\0{st.st_size}\0{st.st_mtime_ns}"


def _digest(path: Path) -> str:
    """A rule file by content: two quick edits of the same size within one clock tick differ too."""
    return f"{path}\0{hashlib.sha256(path.read_bytes()).hexdigest()}"


def cache_key(ruleset: str | None, extra: Sequence[str]) -> str | None:
    from iisdetect.rulesets import ruleset_paths

    paths = [*(ruleset_paths(ruleset) if ruleset else []), *(Path(e) for e in extra)]
    files = _rule_files(paths)
    if files is None:
        return None
    parts = [__version__, str(ruleset), *map(str, extra)]
    try:
        parts.extend(_digest(f.resolve()) for f in files)
        for sub in _SHAPING:
            parts.extend(_stamp(f) for f in sorted((_PACKAGE / sub).iterdir()) if f.is_file())
        spec = importlib.util.find_spec("sigma")
        if spec is None or not spec.submodule_search_locations:
            return None
        sigma = Path(next(iter(spec.submodule_search_locations)))
        parts.extend(_stamp(f) for f in sorted(sigma.rglob("*.py")))
    except OSError:
        return None
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


class _Pickler(pickle.Pickler):
    """Glob wildcards are the sentinels ``ir.STAR``/``ir.ONE``: kept by identity, not copied."""

    def persistent_id(self, obj: Any) -> str | None:
        if obj is ir.STAR:
            return "STAR"
        if obj is ir.ONE:
            return "ONE"
        return None


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> Any:
        if pid == "STAR":
            return ir.STAR
        if pid == "ONE":
            return ir.ONE
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")


def _trusted(path: Path) -> bool:
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load_rules_cached(ruleset: str | None, extra: Sequence[str] = ()) -> Any:
    """``load_rules(ruleset, extra)`` through the cache (same result; compiled on a miss)."""
    key = None if os.environ.get("IISDETECT_NO_CACHE") else cache_key(ruleset, extra)
    target = cache_dir() / f"rules-{key}.pickle" if key else None
    if target is not None:
        try:
            if target.is_file() and _trusted(target):
                with target.open("rb") as fh:
                    report = _Unpickler(fh).load()
                if isinstance(report, CachedReport):
                    return report
        except Exception:  # noqa: BLE001 - a stale or damaged cache entry: compile instead
            pass
    from iisdetect.engine.ruleset import load_rules

    full = load_rules(ruleset, extra)
    report = CachedReport(list(full.rules), list(full.warnings), list(full.notes))
    if target is not None:
        _store(target, report)
    return report


def _store(target: Path, report: CachedReport) -> None:
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        buf = io.BytesIO()
        _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(report)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(buf.getvalue())
        os.replace(tmp, target)
    except Exception:  # noqa: BLE001 - a read-only home, a full disk: just no cache
        return
