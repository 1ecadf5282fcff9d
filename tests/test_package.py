"""The package's shape: layers only import downward (the import-linter contracts of pyproject.toml),
no function-level import of the package's own modules (a layering that holds only because an import
was hidden in a function does not hold), and long modules say why they are one."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "src" / "lakehouse"
LONG = 300


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_layer_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "BROKEN" not in result.stdout and result.stdout.count("KEPT") == 3


def test_no_module_imports_the_package_inside_a_function() -> None:
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.module or "").split(".")[0] == "lakehouse":
                    found.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
                if isinstance(inner, ast.Import) and any(a.name.split(".")[0] == "lakehouse" for a in inner.names):
                    found.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert found == []


def test_a_module_over_300_lines_says_why_it_is_one() -> None:
    unexplained = []
    for path in _modules():
        text = path.read_text()
        if text.count("\n") > LONG and "Why one module:" not in (ast.get_docstring(ast.parse(text)) or ""):
            unexplained.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert unexplained == []
