"""Run the CLI in a child process: through a pipe, or under a pseudo-terminal (what a user's shell is)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

ENV = {**os.environ, "COLUMNS": "120", "PYTHONUTF8": "1"}


def run(
    args: Sequence[str], *, stdin: bytes | None = None, env: dict | None = None, **kw
) -> subprocess.CompletedProcess:  # noqa: E501
    return subprocess.run(
        [sys.executable, "-m", "iisdetect", *args], input=stdin, capture_output=True, env=env or ENV, timeout=120, **kw
    )


def run_pty(args: Sequence[str]) -> tuple[int, bytes]:
    """stdout and stderr on one pseudo-terminal; returns (exit code, every byte the terminal got)."""
    import pty

    master, slave = pty.openpty()
    env = {**ENV, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "iisdetect", *args], stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            block = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not block:
            break
        out += block
    os.close(master)
    return proc.wait(timeout=120), out
