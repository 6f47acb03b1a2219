"""click's own words reach people in Spanish: help pages, usage errors, value errors.

The table in ``archivo_cli/i18n.py`` is checked against the click installed:
every message click marks for translation must be in it, so a click upgrade
that adds one fails here instead of leaking English to a clerk.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterator

import click
import pytest
from click.testing import CliRunner

from archivo_cli import i18n
from archivo_cli.main import cli
from tests.conftest import home_env

CLICK_DIR = Path(click.__file__).parent


def _click_messages() -> Iterator[tuple[str, str]]:
    """(module, message) for every literal click passes to ``_`` or ``ngettext``."""
    for source in sorted(CLICK_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("_", "ngettext"):
                count = 2 if node.func.id == "ngettext" else 1
                for arg in node.args[:count]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        yield source.stem, arg.value


MESSAGES = sorted(set(_click_messages()))


def test_click_source_was_read() -> None:
    """Guard for the tests below: an empty list would make them pass for nothing."""
    texts = {m for _, m in MESSAGES}
    assert {"Did you mean {possibility}?", "No such command {name!r}.", "Usage:"} <= texts
    assert len(texts) > 50


@pytest.mark.parametrize("module, message", MESSAGES)
def test_every_click_message_has_a_spanish_translation(module: str, message: str) -> None:
    assert message in i18n.SPANISH, f"click.{module}: {message!r} no está en archivo_cli/i18n.py"
    spanish = i18n.SPANISH[message]
    needed = set(re.findall(r"\{(\w+)", spanish))
    offered = set(re.findall(r"\{(\w+)", message))
    assert needed <= offered, f"{spanish!r} usa datos que click no pasa"
    assert set(re.findall(r"%\((\w+)\)", spanish)) == set(re.findall(r"%\((\w+)\)", message))


def test_every_click_module_with_messages_uses_the_table() -> None:
    import importlib
    import sys

    modules = {m for m, _ in MESSAGES} - ({"_winconsole"} if sys.platform != "win32" else set())
    for name in modules:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            assert module._ is i18n.spanish, name
        if hasattr(module, "ngettext"):
            assert module.ngettext is i18n.spanish_plural, name


def _english_phrases() -> set[str]:
    """The fixed words of click's messages (between placeholders), long enough to be telling."""
    phrases: set[str] = set()
    for _, message in MESSAGES:
        for piece in re.split(r"\{[^}]*\}|%\([^)]*\)s", message):
            piece = piece.strip(" .:!?()'\n\t")
            if len(piece) >= 6 and re.search(r"[a-z]{3}", piece):
                phrases.add(piece)
    return phrases | {"Did you mean", "Usage:", "[OPTIONS]", "COMMAND [ARGS]", "Options:"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return home_env(tmp_path / "var")


def _mistakes(tmp_path: Path) -> list[list[str]]:
    folder = tmp_path / "una-carpeta"
    folder.mkdir(exist_ok=True)
    return [
        ["lsta"],                                       # no such command, no guess
        ["despacho", "lsta"],                           # «Did you mean 'lista'?»
        ["suministro", "ve"],                           # no such command with a guess
        ["user", "--nada"],                             # no such option
        ["ingest", "--esprar", "x.pdf"],                # option with a guess
        ["despacho", "informe", "--mes", "2026-11"],    # options with several guesses
        ["ingest", "--tipo", "factura", "x.pdf"],       # not one of the choices
        ["ingest"],                                     # missing argument
        ["user", "add", "lmartinez"],                   # missing required option with choices
        ["serve", "--port"],                            # option requires an argument
        ["serve", "--port", "ochenta"],                 # not a valid integer
        ["search", "hola", "--pagina", "0"],            # out of range
        ["despacho", "plazos", "fijar", "SUR", "400"],  # out of range (argument)
        ["despacho", "vencidos", "--dias", "x"],        # not an integer
        ["fisico", "prestamos", "--hasta", "mañana"],   # does not match the date formats
        ["config", "sobra", "tambien"],                 # unexpected extra arguments
        ["config", "sobra"],                            # unexpected extra argument
        ["import-supplies", str(tmp_path / "no-existe.csv")],  # path does not exist
        ["import-supplies", str(folder)],               # path is a directory
        ["separadores", "1234567", "--salida", str(folder)],   # path is a directory
        ["init", "--admin"],                            # option requires an argument
        [],                                             # a group without a command: help
        ["--help"], ["despacho", "--help"], ["user", "add", "--help"], ["ingest", "--help"],
    ]


def test_usage_mistakes_are_answered_in_spanish(env: dict[str, str], tmp_path: Path) -> None:
    english = _english_phrases()
    seen_errors = 0
    for args in _mistakes(tmp_path):
        out = CliRunner().invoke(cli, args, env=env, prog_name="archivo")
        text = out.output
        leaked = sorted(p for p in english if p in text)
        assert not leaked, f"archivo {' '.join(args)}:\n{text}\nfrases en inglés: {leaked}"
        assert "Traceback" not in text
        if out.exit_code == 2:
            seen_errors += 1
            assert "Error: " in text or "Uso: archivo" in text, text
    assert seen_errors >= 18  # the mistakes above really were usage errors


def test_guesses_use_spanish_quotes(env: dict[str, str]) -> None:
    out = CliRunner().invoke(cli, ["despacho", "lsta"], env=env)
    assert "No existe el comando «lsta». ¿Quiso decir «lista»?" in out.output
    several = CliRunner().invoke(cli, ["despacho", "informe", "--mes", "2026-11"], env=env)
    assert "¿Quiso decir alguna de estas:" in several.output


def _commands(group: click.Group) -> Iterator[tuple[click.Context, click.Command]]:
    def walk(command: click.Command, parent: click.Context | None,
             name: str) -> Iterator[tuple[click.Context, click.Command]]:
        ctx = click.Context(command, info_name=name, parent=parent)
        yield ctx, command
        if isinstance(command, click.Group):
            for sub_name, sub in sorted(command.commands.items()):
                yield from walk(sub, ctx, sub_name)

    yield from walk(group, None, "archivo")


ENGLISH_METAVARS = {"OPTIONS", "TEXT", "INTEGER", "FLOAT", "BOOLEAN", "PATH", "FILE",
                    "DIRECTORY", "FILENAME", "COMMAND", "ARGS", "USERNAME", "QUERY", "PATHS",
                    "CODE", "CODES", "NAME", "SOURCE", "TARGET", "OLD", "NEW", "NUMBERS"}


def _words(text: str) -> set[str]:
    return {w.strip("[].!") for w in re.split(r"[\s|]+", text)} - {""}


def test_usage_lines_and_option_lists_have_spanish_placeholders() -> None:
    checked = 0
    for ctx, command in _commands(cli):
        words = _words(" ".join(command.collect_usage_pieces(ctx)))
        for param in command.params:
            if not getattr(param, "is_flag", False) and not isinstance(param.type, click.Choice):
                words |= _words(param.make_metavar(ctx))
                checked += 1
        leaked = words & ENGLISH_METAVARS
        assert not leaked, f"{ctx.command_path}: {sorted(leaked)}"
    assert checked > 50
