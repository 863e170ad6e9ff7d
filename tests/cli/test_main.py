"""The command line's frame: every command module registers, errors become exit status 2."""

from __future__ import annotations

import pytest

from neuralcodes.cli import COMMAND_MODULES, build_parser, main


def test_every_command_group_registers() -> None:
    commands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert {"run", "demo", "prepare", "report", "index", "search", "serve", "sweep",
            "recipes", "benchmark", "export", "weights"} <= commands
    assert len(COMMAND_MODULES) == 9


def test_no_command_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 1
    assert "usage: neuralcodes" in capsys.readouterr().out


def test_a_bad_choice_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["demo", "--precision", "fp64"])
    assert e.value.code == 2 and "invalid choice: 'fp64'" in capsys.readouterr().err
