"""Parse ES|QL with ``esql-parser`` (the ANTLR grammar of the Elasticsearch repository): syntax only."""

from __future__ import annotations

import pytest

pytest.importorskip("esql_parser")

from antlr4 import CommonTokenStream, InputStream  # noqa: E402
from antlr4.error.ErrorListener import ErrorListener  # noqa: E402
from esql_parser.EsqlBaseLexer import EsqlBaseLexer  # noqa: E402
from esql_parser.EsqlBaseParser import EsqlBaseParser  # noqa: E402


class _Collect(ErrorListener):
    def __init__(self) -> None:
        self.errors: list[str] = []

    def syntaxError(self, recognizer, offending, line, column, msg, e) -> None:  # noqa: N802, ANN001
        self.errors.append(f"{line}:{column} {msg}")


def esql_syntax_errors(query: str) -> list[str]:
    errs = _Collect()
    lexer = EsqlBaseLexer(InputStream(query))
    lexer.removeErrorListeners()
    lexer.addErrorListener(errs)
    parser = EsqlBaseParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(errs)
    parser.singleStatement()
    return errs.errors
