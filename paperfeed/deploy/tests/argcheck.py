"""A bench command's arguments out of range: refused by name, exit code 2."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest


def assert_refused(add_arguments: Callable[[argparse.ArgumentParser], None], prog: str,
                   argv: list[str], message: str, capsys) -> None:
    parser = argparse.ArgumentParser(prog=prog)
    add_arguments(parser)
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(argv)
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert argv[0] in error and message in error
