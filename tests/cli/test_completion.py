"""Shell completion through argcomplete (the completion extra), when it is installed."""

from __future__ import annotations

import io
import sys

import pytest

from neuralcodes.cli import build_parser


@pytest.mark.parametrize(("line", "expected"), [
    ("neuralcodes ind", "index "),
    ("neuralcodes sweep run --la", "--layer "),  # the deprecated --layers is not offered
    ("neuralcodes index build photos --back", "--backend "),
])
def test_completion(line: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    argcomplete = pytest.importorskip("argcomplete")
    for key, value in {"_ARGCOMPLETE": "1", "COMP_LINE": line, "COMP_POINT": str(len(line)),
                       "_ARGCOMPLETE_IFS": "\013"}.items():
        monkeypatch.setenv(key, value)

    class Finder(argcomplete.CompletionFinder):  # type: ignore[misc]
        def _init_debug_stream(self) -> None:  # not fd 9: pytest may hold it
            argcomplete.io.debug_stream = sys.stderr

    out = io.StringIO()
    with pytest.raises(SystemExit):
        Finder()(build_parser(), output_stream=out, exit_method=sys.exit)
    assert out.getvalue() == expected
