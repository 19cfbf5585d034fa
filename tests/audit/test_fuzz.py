"""Mutated copies of the example package never crash the audit, and every configuration file is accounted for."""

from __future__ import annotations

import random
import tarfile
from pathlib import Path

from iisdetect.audit.run import AuditOptions, audit

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "triage" / "web01-velociraptor.tar.gz"
TOKENS = [b"<", b">", b"&", b"<!DOCTYPE x>", b"\x00", b"\xff\xfe", b'"', b"]]>", b"&#0;", b"<a>" * 70, b"%windir%"]


def _mutate(data: bytes, rnd: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rnd.randint(1, 6)):
        if not b:
            break
        pos, op = rnd.randrange(len(b)), rnd.random()
        if op < 0.3:
            b[pos] = rnd.randrange(256)
        elif op < 0.6:
            b[pos:pos] = rnd.choice(TOKENS)
        elif op < 0.8:
            del b[pos : pos + rnd.randint(1, 50)]
        else:
            del b[pos:]
    return bytes(b)


def test_mutated_packages(tmp_path: Path) -> None:
    with tarfile.open(EXAMPLE) as tf:
        members = [(i.name, tf.extractfile(i).read()) for i in tf if i.isfile()]  # type: ignore[union-attr]
    configs = sum(1 for n, _ in members if n.endswith(".config"))
    rnd = random.Random(17)
    for n in range(15):
        root = tmp_path / f"c{n}"
        for name, data in members:
            f = root / name
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(_mutate(data, rnd))
        result = audit(AuditOptions([str(root)]))
        assert result.stats.records_read + result.stats.records_skipped == configs
        assert all(a.level for a in result.alerts)
