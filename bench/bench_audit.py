"""Benchmark ``iisdetect audit`` on a large made-up triage package: configuration files/s, entries/s, peak RSS.

    python bench/bench_audit.py [--webconfigs 5000] [--snapshots 10] [--dlls 50] [--format zip|tar.gz|folder]

The package (written to bench/data/, which git ignores) is one server: the bundled example's live
applicationHost.config plus ``--dlls`` extra global modules whose DLLs are in the package (inert files from
tests/audit/pebuild.py), ``--snapshots`` CFGHISTORY copies, and ``--webconfigs`` web.configs with three
managed modules and a handler each. The audit runs in a fresh process (``-m iisdetect audit --format ndjson``
to /dev/null); its peak RSS is that process's VmHWM.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.audit.pebuild import NATIVE_MODULE, build  # noqa: E402

DATA = ROOT / "bench" / "data"
WEB = """<?xml version="1.0" encoding="utf-8"?>
<configuration><system.webServer>
  <modules>
    <add name="Cache{i}" type="Contoso.Cache{i}, Contoso, Version=1.0.0.0, Culture=neutral, PublicKeyToken=8c3d2b1a0f9e7d6c" />
    <add name="Session" type="System.Web.SessionState.SessionStateModule" />
    <add name="Route{i}" type="App.Route{i}" />
  </modules>
  <handlers><add name="php{i}" path="*.php" verb="*" modules="FastCgiModule" scriptProcessor="C:\\PHP\\php-cgi.exe" /></handlers>
</system.webServer></configuration>
"""


def members(webconfigs: int, snapshots: int, dlls: int) -> list[tuple[str, bytes]]:
    spec = __import__("importlib.util").util.spec_from_file_location("b", ROOT / "examples" / "triage" / "build.py")
    mod = __import__("importlib.util").util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    extra = "".join(
        f'            <add name="Vendor{n}" image="C:\\Program Files\\Vendor\\m{n}.dll" />\n' for n in range(dlls)
    )
    live = mod.apphost(extra).encode()
    out = [("C/Windows/System32/inetsrv/config/applicationHost.config", live)]
    out += [(f"C/inetpub/history/CFGHISTORY_{n:010d}/applicationHost.config", live) for n in range(1, snapshots + 1)]
    out += [(f"C/inetpub/wwwroot/app{i}/web.config", WEB.format(i=i).encode()) for i in range(webconfigs)]
    dll = build(NATIVE_MODULE)
    out += [(f"C/Program Files/Vendor/m{n}.dll", dll) for n in range(dlls)]
    return out


def write(kind: str, items: list[tuple[str, bytes]]) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    if kind == "zip":
        path = DATA / "audit_pkg.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in items:
                zf.writestr(name, data)
    elif kind == "tar.gz":
        path = DATA / "audit_pkg.tar.gz"
        with tarfile.open(path, "w:gz") as tf:
            for name, data in items:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, __import__("io").BytesIO(data))
    else:
        path = DATA / "audit_pkg"
        for name, data in items:
            f = path / name
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(data)
    return path


CHILD = """
import sys, time
from iisdetect.cli import main
t = time.perf_counter()
main(["audit", sys.argv[1], "--format", "ndjson", "-o", "/dev/null"])
el = time.perf_counter() - t
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]
print(el, int(hwm) // 1024, file=sys.stderr)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--webconfigs", type=int, default=5000)
    ap.add_argument("--snapshots", type=int, default=10)
    ap.add_argument("--dlls", type=int, default=50)
    ap.add_argument("--format", choices=("zip", "tar.gz", "folder"), default="zip")
    a = ap.parse_args()
    items = members(a.webconfigs, a.snapshots, a.dlls)
    path = write(a.format, items)
    configs = sum(1 for n, _ in items if n.endswith(".config"))
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    last = res.stderr.strip().splitlines()
    el, rss = last[-1].split()
    entries = next((ln for ln in last if "entries:" in ln), "")
    print(f"package: {path.name} ({a.format}), {configs} configuration files, {a.dlls} DLLs")
    print(f"audit: {float(el):.2f} s in process ({wall:.2f} s wall with start-up), {configs / float(el):,.0f} files/s")
    print(f"peak RSS: {rss} MB; {entries.strip()}")


if __name__ == "__main__":
    main()

# ruff: noqa: E501 - the XML template keeps its lines as IIS writes them
