"""docs/CLI.md and the README's CLI section hold the installed command's ``--help`` verbatim."""

from __future__ import annotations

import re

from syncthing_async.cli import EXIT_CODES, render_help
from tests.cli_support import DOCS, ROOT, doc_block, run


def test_docs_cli_md_holds_every_help_of_the_installed_command() -> None:
    block = doc_block(DOCS.read_text(), "HELP")
    assert block == render_help(), "regenerate: python -c 'from syncthing_async.cli import render_help; ...'"
    sections = re.findall(r"### `syncthing-async([^`]*)`\n\n```text\n(.*?)\n```", block, re.S)
    assert len(sections) >= 10
    for words, text in sections:
        res = run(*words.split(), "--help")
        assert res.returncode == 0 and res.stdout.rstrip() == text, words


def test_readme_cli_section_is_the_top_level_help() -> None:
    block = doc_block((ROOT / "README.md").read_text(), "CLI HELP")
    res = run("--help")
    assert block == f"```text\n{res.stdout.rstrip()}\n```\n"
    for code, meaning in EXIT_CODES:
        assert f"  {code:<4} {meaning}" in block


def test_docs_exit_code_table_matches_the_help() -> None:
    table = dict(re.findall(r"^\| (\d+) \| ([^|]+) \|", DOCS.read_text(), re.M))
    assert sorted(int(c) for c in table) == sorted(code for code, _ in EXIT_CODES)
