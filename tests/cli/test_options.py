"""One spelling per concept across commands; -q/-v everywhere, --json wherever the output is a
table or a record; every option has a help text that says its default."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from neuralcodes.cli import build_parser, main

JSON_COMMANDS = {"run", "demo", "index build", "index update", "index add", "index remove",
                 "index info", "search", "sweep", "finetune", "compare", "folder-retrieval",
                 "recipes", "export", *(f"benchmark {n}" for n in (
                     "holidays", "oxford5k", "paris6k", "roxford5k", "rparis6k", "ukbench"))}
OLD_SPELLINGS = {"--layers", "--dims", "--alpha", "--pca-fit"}


def _commands(parser: argparse.ArgumentParser, name: str = "") -> Iterator[
        tuple[str, argparse.ArgumentParser]]:
    """Every command that runs something, by its full name ("index build")."""
    sub = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not sub:
        yield name, parser
    for action in sub:
        for child, p in action.choices.items():
            yield from _commands(p, f"{name} {child}".strip())


def _visible(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {s: a for a in parser._actions for s in a.option_strings
            if a.help != argparse.SUPPRESS}


COMMANDS = dict(_commands(build_parser()))


def test_every_command_takes_quiet_and_verbose() -> None:
    assert len(COMMANDS) > 25
    for name, parser in COMMANDS.items():
        options = _visible(parser)
        assert {"-q", "--quiet", "-v", "--verbose"} <= set(options), name


def test_json_wherever_the_output_is_a_table_or_a_record() -> None:
    assert {n for n, p in COMMANDS.items() if "--json" in _visible(p)} == JSON_COMMANDS


def test_one_spelling_per_concept() -> None:
    for name, parser in COMMANDS.items():
        shown = set(_visible(parser))
        assert not shown & OLD_SPELLINGS, name
    layer = {n: p for n, p in COMMANDS.items() if "--layer" in _visible(p)}
    assert {"index build", "sweep", "compare", "folder-retrieval", "export",
            "benchmark holidays"} <= set(layer)
    many = {n for n, p in layer.items() if _visible(p)["--layer"].nargs == "+"}
    assert many == {"sweep", "compare", "folder-retrieval", "export"}
    config = {"run", "demo", "prepare"}  # --device from the run configuration's choices
    for option in ("--pca", "--whiten", "--qe", "--qe-alpha", "--device", "--bootstrap"):
        forms = {(_visible(p)[option].metavar, _visible(p)[option].type) for n, p in
                 COMMANDS.items() if option in _visible(p) and n not in config}
        assert len(forms) == 1, (option, forms)  # one definition


def test_every_option_has_a_help_that_says_its_default() -> None:
    for name, parser in COMMANDS.items():
        for option, action in _visible(parser).items():
            if option in ("-h", "--help", "--version"):
                continue
            assert action.help, (name, option)
            if action.default not in (None, False, [], argparse.SUPPRESS):
                assert "default" in action.help, (name, option, action.default)


def test_old_spellings_still_work_with_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):  # --help after the alias: parsed, then exits
        main(["sweep", "run", "--layers", "L7", "--dims", "8", "--alpha", "2", "--help"])
    err = capsys.readouterr().err
    assert "neuralcodes: warning: --layers is deprecated; use --layer" in err
    assert "--dims is deprecated; use --pca" in err and "--alpha is deprecated" in err
    old = parser.parse_args(["sweep", "run", "--layers", "L7", "--dims", "8", "--alpha", "2"])
    new = parser.parse_args(["sweep", "run", "--layer", "L7", "--pca", "8", "--qe-alpha", "2"])
    assert vars(old) == vars(new)
    assert (new.layer, new.pca, new.qe_alpha) == (["L7"], [8], 2.0)
    fr = parser.parse_args(["folder-retrieval", "f", "--model", "r", "--pca-fit", "d"])
    assert fr.pca_fit_on == "d"


def test_whiten_alone_is_yes_and_both_is_for_sweeps() -> None:
    parser = build_parser()
    assert parser.parse_args(["sweep", "r"]).whiten == "no"
    assert parser.parse_args(["sweep", "r", "--whiten"]).whiten == "yes"
    assert parser.parse_args(["sweep", "r", "--whiten", "both"]).whiten == "both"
    assert parser.parse_args(["folder-retrieval", "f", "--model", "r", "--whiten"]).whiten == "yes"
    with pytest.raises(SystemExit):
        parser.parse_args(["folder-retrieval", "f", "--model", "r", "--whiten", "both"])


def test_quiet_and_verbose_exclude_each_other() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["search", "i", "q.jpg", "-q", "-v"])
