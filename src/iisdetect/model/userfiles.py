"""Reading YAML files users hand us (rules, tuning, QRadar mapping overrides, reference sets, scenarios).

One place so every such file fails the same way: a ``UsageError`` naming what the file is, its path,
and either the OS error or the first line of the YAML error, never a traceback.

Bounded (../shared/reference/hostile-inputs.md finding 11): a 374-byte tuning file of nested aliases
(9 levels of 9-way ``*a`` references) expands to 387 million nodes and hung the run. The node graph
is composed first and its expanded size computed without expanding it (each node's size is
memoised, so the count is linear in the file); beyond :data:`MAX_NODES`, or a file larger than
:data:`MAX_BYTES`, or a recursive alias, the file is refused before anything is constructed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from iisdetect.errors import UsageError

#: Largest user YAML file read (bytes); rule packs of thousands of rules are far smaller.
MAX_BYTES = 16 << 20
#: Largest number of YAML nodes a document may expand to (aliases counted each time they are used).
MAX_NODES = 2_000_000


class YamlRefused(ValueError):
    """A YAML document that would expand beyond the limits (an alias bomb) or is too large."""


def _expanded_size(root: yaml.Node) -> int:
    """Nodes after alias expansion, without expanding (iterative, memoised per node object)."""
    memo: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in memo and not done:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if done:
            active.discard(key)
            memo[key] = 1 + sum(memo[id(c)] for c in children)
            if memo[key] > MAX_NODES:
                raise YamlRefused(f"expands to more than {MAX_NODES} nodes (an alias bomb?)")
            continue
        if key in active:
            raise YamlRefused("recursive alias")
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in memo)
    return memo[id(root)]


def load_documents(text: str) -> Iterator[Any]:
    """``yaml.safe_load_all`` with the size and alias-expansion bounds (raises YamlRefused/YAMLError)."""
    if len(text) > MAX_BYTES:
        raise YamlRefused(f"larger than {MAX_BYTES >> 20} MiB")
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            _expanded_size(node)
            yield loader.construct_document(node)
    finally:
        loader.dispose()


def load_text(text: str) -> Any:
    """The single document in ``text`` (``None`` when empty), bounded like :func:`load_documents`."""
    docs = list(load_documents(text))
    if len(docs) > 1:
        raise yaml.YAMLError("expected a single document in the stream, found more")
    return docs[0] if docs else None


def read_text_bounded(path: str | Path) -> str:
    """A user file's text; refused (YamlRefused) beyond MAX_BYTES before it is read whole."""
    p = Path(path)
    with p.open("rb") as fh:
        data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise YamlRefused(f"larger than {MAX_BYTES >> 20} MiB")
    return data.decode("utf-8")


def read_yaml(path: str | Path, what: str) -> Any:
    p = Path(path)
    try:
        return load_text(read_text_bounded(p))
    except OSError as exc:
        raise UsageError(f"{what} {p}: cannot read: {exc.strerror or exc}") from None
    except YamlRefused as exc:
        raise UsageError(f"{what} {p}: refused: {exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{what} {p}: invalid YAML: {str(exc).splitlines()[0]}") from None
