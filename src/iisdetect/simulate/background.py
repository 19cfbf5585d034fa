"""The background of a busy IIS server, streamed: worker starts, their module loads, routine writes.

Why streamed: benchmarks need millions of events; the generator yields one worker lifetime at a time
(about 60 records) and keeps nothing else, so memory stays flat whatever ``count`` is. Why these
templates: they are what a real w3wp host logs all day (TRR0029 lab; OTRF ProxyLogon host), and they
include the hard negatives rules trip over: Defender's signed MpOAV.dll/MpClient.dll from
ProgramData (a documented seed false positive), unsigned .NET NativeImages ``*.ni.dll``, ASP.NET
``Temporary ASP.NET Files`` compilations, and svchost CFGHISTORY snapshots under ``\\inetpub``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import lru_cache

from iisdetect.model.times import parse_time
from iisdetect.simulate import security, sysmon
from iisdetect.simulate.model import SimEvent, Truth, to_sim
from iisdetect.simulate.process import Process, apppool_sid

#: Accepted false positives per background template and ruleset (documented in docs/scenarios.md).
TEMPLATE_KNOWN_FP: dict[str, dict[str, tuple[str, ...]]] = {
    "defender_load": {"seed": ("IIS_Non_Standard_Module_Load",)},
}
#: Average background records per second of simulated time.
RATE = 25.0
#: pid of the `svchost.exe -k iissvcs` host process (WAS/W3SVC); scenarios use the same value.
IISSVCS_PID = 2316

_INETSRV = "C:\\Windows\\System32\\inetsrv\\"
_NET = "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\"
_NI = "C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\"
_DEFENDER = "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\"
_CORE = ["w3wphost.dll", "iisutil.dll", "nativerd.dll", "iiscore.dll", "w3tp.dll", "w3dt.dll", "iisres.dll"]
_MODULES = [
    "cachuri.dll", "cachfile.dll", "cachtokn.dll", "cachhttp.dll", "compstat.dll", "defdoc.dll",
    "dirlist.dll", "protsup.dll", "static.dll", "authanon.dll", "authsspi.dll", "modrqflt.dll",
    "custerr.dll", "loghttp.dll", "iisetw.dll", "iisreqs.dll", "isapi.dll", "filter.dll",
    "validcfg.dll", "warmup.dll", "iiswsock.dll", "gzip.dll", "rewrite.dll",
]  # fmt: skip
_DOTNET = [
    (_NET + "webengine4.dll", "Microsoft Corporation", "ASP.NET Web Engine"),
    (_NET + "clr.dll", "Microsoft Corporation", "Microsoft .NET Runtime Common Language Runtime - WorkStation"),
    (_NET + "clrjit.dll", "Microsoft Corporation", "Microsoft .NET Runtime Just-In-Time Compiler"),
    (_NET + "aspnet_filter.dll", "Microsoft Corporation", "ASP.NET Cookieless Filter"),
    ("C:\\Windows\\System32\\mscoree.dll", "Microsoft Windows", "Microsoft .NET Runtime Execution Engine"),
]
_NATIVE_IMAGES = [
    "mscorlib\\5d1d3e6b2a5c0c2b0b4e1c0d7e6f5a4b\\mscorlib.ni.dll",
    "System.Web\\0c4b8d9f2e1a3b5c6d7e8f9a0b1c2d3e\\System.Web.ni.dll",
    "System\\7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d\\System.ni.dll",
    "System.Configuration\\1f2e3d4c5b6a79880716253443526170\\System.Configuration.ni.dll",
]
_POOLS = ["DefaultAppPool", "Intranet", "API", "SharePoint - 80"]


@lru_cache(maxsize=256)
def _image(path: str, signature: str, description: str) -> sysmon.ImageInfo:
    if not signature:
        return sysmon.ImageInfo(path, signed=False, file_version="4.8.9232.0 built by: NET481REL1LAST_C",
                                description=description, product="Microsoft® .NET Framework")  # fmt: skip
    version = "4.18.24090.11 (f5c8b0d2)" if "Defender" in path else "10.0.20348.1 (WinBuild.160101.0800)"
    return sysmon.ImageInfo(path, True, signature, "Valid", version, description)


def _truth(host: str, n: int, template: str) -> Truth:
    return Truth(f"background/{host}/{n}", "background", template, False,
                 known_fp=TEMPLATE_KNOWN_FP.get(template, {}), template=template)  # fmt: skip


def _worker_batch(host: str, seed: int, rng: random.Random, t: datetime, svchost: Process) -> list[tuple]:
    """One worker process lifetime: start, core/module/.NET/Defender loads, a few writes."""
    pool = rng.choice(_POOLS)
    cmd = (
        f'c:\\windows\\system32\\inetsrv\\w3wp.exe -ap "{pool}" -v "v4.0" -l "webengine4.dll" -a '
        f"\\\\.\\pipe\\iisipm{rng.getrandbits(128):032x} -h "
        f'"C:\\inetpub\\temp\\apppools\\{pool}\\{pool}.config" -w "" -m 0 -t 20 -ta 0'
    )
    w3wp = Process("w3wp", _INETSRV + "w3wp.exe", cmd, f"IIS APPPOOL\\{pool}", rng.randrange(600, 16000) * 4,
                   t, host, seed, svchost, "High", "C:\\Windows\\system32\\", apppool_sid(pool), "0x3e4",
                   description="IIS Worker Process", original_file_name="w3wp.exe")  # fmt: skip
    tid = rng.randrange(1000, 9000) * 4
    out: list[tuple] = [
        (t, sysmon.process_create(w3wp, t, tid), "worker_start"),
        (t, security.process_creation(w3wp, t, tid), "worker_start"),
    ]
    step = timedelta(milliseconds=rng.randrange(3, 12))
    loads = [(_INETSRV + d, "Microsoft Windows", "IIS module") for d in _CORE + rng.sample(_MODULES, 16)]
    loads += _DOTNET + [(_NI + p, "", p.rsplit("\\", 1)[-1].replace(".ni.dll", "")) for p in _NATIVE_IMAGES]
    for i, (path, signer, desc) in enumerate(loads):
        when = t + step * (i + 1)
        out.append((when, sysmon.image_load(w3wp, when, _image(path, signer, desc), tid), "w3wp_module_load"))
    when = t + step * (len(loads) + 2)
    for name in ("MpOAV.dll", "MpClient.dll"):
        img = _image(_DEFENDER + name, "Microsoft Corporation", "Microsoft Defender Antivirus")
        out.append((when, sysmon.image_load(w3wp, when, img, tid), "defender_load"))
        when += step
    if rng.random() < 0.3:
        d1, d2 = f"{rng.getrandbits(32):08x}", f"{rng.getrandbits(32):08x}"
        target = f"{_NET}Temporary ASP.NET Files\\root\\{d1}\\{d2}\\App_Web_{rng.getrandbits(40):010x}.dll"
        when += timedelta(seconds=rng.uniform(1, 20))
        out.append((when, sysmon.file_create(w3wp, when, target, tid), "aspnet_compile_write"))
        out.append((when + step, sysmon.image_load(w3wp, when + step, _image(target, "", "App_Web"), tid),
                    "aspnet_temp_load"))  # fmt: skip
    if rng.random() < 0.05:
        when += timedelta(seconds=rng.uniform(1, 5))
        target = f"C:\\inetpub\\history\\CFGHISTORY_{rng.randrange(1, 10**6):010d}\\applicationHost.config"
        out.append((when, sysmon.file_create(svchost, when, target, tid + 4), "cfghistory_snapshot"))
    return out


def background(host: str, start: datetime, count: int, seed: int) -> Iterator[SimEvent]:
    """Yield exactly ``count`` benign events for ``host`` from ``start`` on, in time order."""
    rng = random.Random(f"{seed}|{host}|background")
    svchost = Process("svchost", "C:\\Windows\\System32\\svchost.exe",
                      "C:\\Windows\\system32\\svchost.exe -k iissvcs", "NT AUTHORITY\\SYSTEM",
                      IISSVCS_PID, start - timedelta(days=3), host, seed,
                      integrity="System", user_sid="S-1-5-18")  # fmt: skip
    t = start
    n = 0
    while n < count:
        batch = [
            to_sim(b, host, when, _truth(host, 0, tpl)) for when, b, tpl in _worker_batch(host, seed, rng, t, svchost)
        ]
        batch.sort(key=lambda e: e.event.time_created)
        for sim in batch:
            if n >= count:
                return
            sim.truth.event_key = f"background/{host}/{n}"
            yield sim
            n += 1
        # next worker start: keep the average rate at RATE records per simulated second; never
        # before the last record of this batch, so the stream stays in time order
        last = parse_time(batch[-1].event.time_created)
        t = max(t + timedelta(seconds=len(batch) / RATE * rng.uniform(0.5, 1.5)), last + timedelta(milliseconds=5))
