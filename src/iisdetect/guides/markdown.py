"""docs/playbook.md, rendered from the guide YAML (``python scripts/render_playbook.py``).

The doc is generated so it cannot drift from what the HTML report and the table show; a test fails
when the committed file differs from this rendering.
"""

from __future__ import annotations

from dataclasses import replace

from iisdetect.guides import SECTIONS, Guide, Source, Step, load_guides

HEADINGS = {"investigate": "Investigate", "contain": "Contain", "eradicate": "Eradicate", "scope": "Scope"}
FENCE = {"cmd": "bat", "powershell": "powershell", "iisdetect": "sh", "text": "text"}


def _prose(text: str) -> str:
    """Markdown prose: ``<globalModules>`` would be read as an HTML tag, so angle brackets are escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cites(sources: tuple[Source, ...]) -> str:
    return "Sources: " + "; ".join(f"[{_prose(s.title)}]({s.url})" for s in sources)


def _step(n: int, step: Step) -> list[str]:
    if step.shared:  # shared steps are written out once, in the last section
        return [f"{n}. **{_prose(step.title)}**: see [`{step.shared}`](#step-{step.shared}).", ""]
    out = [f"{n}. **{_prose(step.title)}**", "", f"   {_prose(step.why)}", ""]
    for c in step.commands:
        out += [f"   ```{FENCE[c.shell]}"] + [f"   {line}".rstrip() for line in c.run.splitlines()] + ["   ```", ""]
    out += [f"   {_cites(step.sources)}", ""]
    return out


def shared_steps() -> dict[str, Step]:
    """The shared steps the guides use, in first-use order."""
    out: dict[str, Step] = {}
    for _, g in sorted(load_guides().items()):
        for sec in SECTIONS:
            for step in g.sections[sec]:
                if step.shared:
                    out.setdefault(step.shared, step)
    return out


def _unshared(step: Step) -> Step:
    return replace(step, shared="")


def render_guide(g: Guide) -> list[str]:
    out = [
        f"## {g.detection_type}: {_prose(g.title)}",
        "",
        f"Guide id `{g.id}` (file `src/iisdetect/guides/{g.file}`).",
        "",
    ]
    out += [_prose(g.what), ""]
    for sec in SECTIONS:
        out += [f"### {HEADINGS[sec]}", ""]
        for i, step in enumerate(g.sections[sec], 1):
            out += _step(i, step)
    out += ["### Tuning", ""]
    for tip in g.tuning:
        out += [f"- **{_prose(tip.title)}**: {_prose(tip.why)}", ""]
        if tip.example:
            out += ["  ```yaml"] + [f"  {line}".rstrip() for line in tip.example.rstrip().splitlines()] + ["  ```", ""]
        out += [f"  {_cites(tip.sources)}", ""]
    return out


def render_playbook() -> str:
    guides = load_guides()
    out = [
        "# Investigation guides and response playbook (T1505.004)",
        "",
        "<!-- Generated from src/iisdetect/guides/*.yaml by scripts/render_playbook.py; do not edit by hand. -->",
        "",
        "One guide per detection type the built-in rulesets raise. Each lists the investigation steps with",
        "exact commands, the response playbook (contain, eradicate, scope) and tuning advice; every step cites",
        "a public source. `<Placeholders>` are filled in by the analyst from the alert: iisdetect never pastes",
        "log text (attacker-controlled) into a command. The HTML report (`docs/report.md`) shows the guide of",
        "each alert's type next to its evidence.",
        "",
        "| detection type | guide id | title |",
        "|---|---|---|",
    ]
    out += [f"| `{t}` | `{g.id}` | {_prose(g.title)} |" for t, g in sorted(guides.items())]
    out.append("")
    for _, g in sorted(guides.items()):
        out += render_guide(g)
    out += ["## Shared steps", "", "Steps several guides use, written out once.", ""]
    for sid, step in shared_steps().items():
        out += [f'<a id="step-{sid}"></a>', "", f"### `{sid}`: {_prose(step.title)}", ""]
        out += [line[3:] if line.startswith("   ") else line for line in _step(0, _unshared(step))[2:]]
    return "\n".join(out).rstrip() + "\n"
