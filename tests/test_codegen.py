"""The generated files (and docs/ENDPOINTS.md) match what the spec renders today."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from syncthing_async._codegen import render as render_mod
from syncthing_async._codegen.__main__ import main, stale_files
from syncthing_async._codegen.render import PACKAGE_DIR, render, spec_hash
from syncthing_async._codegen.spec import ENDPOINTS
from syncthing_async._endpoints import render_endpoint_table

REPO = PACKAGE_DIR.parent


def test_generated_files_are_fresh() -> None:
    stale = stale_files()
    assert not stale, (
        f"stale generated files {sorted(stale)}: run `python -m syncthing_async._codegen` and commit"
    )


def test_check_command_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_check_detects_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = tmp_path / "syncthing_async"
    shutil.copytree(PACKAGE_DIR / "_generated", pkg / "_generated")
    (tmp_path / "docs").mkdir()
    shutil.copy(REPO / "docs" / "ENDPOINTS.md", tmp_path / "docs" / "ENDPOINTS.md")
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    assert stale_files(pkg) == {}
    target = pkg / "_generated" / "namespaces.py"
    target.write_text(target.read_text().replace("async def status(", "async def statuz(", 1))
    (tmp_path / "docs" / "ENDPOINTS.md").write_text("old table\n")
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text().replace("| GET | `/rest/system/status`", "| GET | `/rest/old`", 1))
    stale = stale_files(pkg)
    assert sorted(stale) == ["../README.md", "../docs/ENDPOINTS.md", "_generated/namespaces.py"]


def test_check_exit_code_and_diff_on_stale(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = render()

    def changed() -> dict[str, str]:
        out = dict(real)
        out["_generated/namespaces.py"] += "# an extra line\n"
        return out

    monkeypatch.setattr("syncthing_async._codegen.__main__.render", changed)
    assert main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "+# an extra line" in out and "stale" in out


def test_check_via_python_m() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "syncthing_async._codegen", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_render_is_deterministic() -> None:
    assert render() == render()


def test_headers_carry_the_spec_hash() -> None:
    digest = spec_hash()
    assert len(digest) == 64
    for rel, source in render().items():
        if rel == "../README.md":  # only the section between the markers is generated
            first = source.split("<!-- BEGIN GENERATED ENDPOINTS -->\n", 1)[1].splitlines()[0]
        else:
            first = source.splitlines()[0]
        assert "DO NOT EDIT" in first and digest in first, rel


def test_generated_module_is_valid_python_with_decoders_built_once() -> None:
    source = render()["_generated/namespaces.py"]
    tree = ast.parse(source)
    decoders = [
        node
        for node in tree.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id.startswith("_D_")
    ]
    assert decoders, "decoders are module-level constants"
    # no decoder is created inside a function
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Attribute) and sub.attr == "Decoder":
                    pytest.fail(f"{node.name} builds a decoder per call")
    methods = {
        node.name
        for cls in tree.body
        if isinstance(cls, ast.ClassDef)
        for node in cls.body
        if isinstance(node, ast.AsyncFunctionDef)
    }
    assert {ep.name for ep in ENDPOINTS if not ep.handwritten} <= methods


def test_unknown_model_names_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = ENDPOINTS[0].__class__(
        "GET",
        "/rest/system/status",
        "system",
        "status",
        "x",
        None,
        returns="NoSuchModel",
        response="json",
        model="NoSuchModel",
    )
    monkeypatch.setattr(render_mod, "ENDPOINTS", (bad,))
    with pytest.raises(ValueError, match="NoSuchModel"):
        render_mod.render()


def test_endpoint_doc_embeds_the_table() -> None:
    doc = (REPO / "docs" / "ENDPOINTS.md").read_text()
    assert render_endpoint_table() in doc
