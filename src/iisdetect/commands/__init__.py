"""One module per subcommand, each exposing ``add_parser(subparsers)`` and ``run(args) -> int``.

``cli.py`` discovers them here, so adding a command never means editing a shared dispatcher.
Commands parse nothing themselves beyond their own options and call the library (``api`` and
friends); they raise ``IisdetectError`` for the CLI to print as one line with exit code 2.
"""
