"""The ``files:`` summary line (report/summary.py ``files_line``): every figure adds up to what it qualifies."""

from __future__ import annotations

from collections import Counter

from iisdetect.model.stats import RunStats
from iisdetect.report.summary import files_line


def test_plain_files_say_only_what_was_read() -> None:
    assert files_line(RunStats(files=2, formats=Counter({"evtx": 2}))) == "files: 2 read (evtx 2)"
    assert files_line(RunStats()) == "files: 0 read"


def test_ignored_unreadable_and_container_members_each_stand_apart() -> None:
    stats = RunStats(files=3, files_ignored=2, files_failed=1, containers=2, files_in_containers=4)
    stats.formats.update({"xml": 2, "flat-json": 1})
    assert files_line(stats) == (
        "files: 3 read (flat-json 1, xml 2), 2 ignored (not event data); 4 of these 5 came from 2 containers; "
        "1 unreadable"
    )


def test_workers_stats_merge_into_the_same_figures() -> None:
    a = RunStats(files=1, files_ignored=1, containers=1, files_in_containers=2, formats=Counter({"xml": 1}))
    b = RunStats(files=2, formats=Counter({"ecs": 2}))
    a.merge(b)
    line = "files: 3 read (ecs 2, xml 1), 1 ignored (not event data); 2 of these 4 came from 1 container"
    assert files_line(a) == line
    d = a.to_dict()
    assert (d["files"], d["files_ignored"], d["containers"], d["files_in_containers"]) == (3, 1, 1, 2)
    assert sum(d["formats"].values()) == d["files"]
