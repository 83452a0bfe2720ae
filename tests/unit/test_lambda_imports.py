"""Architecture: a Lambda handler is a thin entry into backend; it never touches AWS SDKs, PynamoDB or Reflex.

`lambdas/<function-name>/` folders are hyphenated, so they are not importable packages and import-linter
(`.importlinter`, run by scripts/test.sh) cannot see them. This check reads each `handler.py` (ast) and allows
only the standard library and `backend.*`: the rules live in the service layer, behind the doors in
`backend.api`, and a handler that imported boto3 or a model could bypass them.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAMBDAS = ROOT / "lambdas"
FORBIDDEN = {"boto3", "botocore", "pynamodb", "reflex", "reflex_base", "wecare_app"}


def _handlers() -> list[Path]:
    return sorted(LAMBDAS.glob("*/handler.py"))


def _imported_modules(tree: ast.Module) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # A relative import has no package to be relative to in a hyphenated folder.
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found: list[str] = []
    for lineno, module in _imported_modules(tree):
        top = module.split(".")[0]
        if top in FORBIDDEN:
            found.append(f"{where}:{lineno}: imports {module} (forbidden in a Lambda handler)")
        elif not (top == "backend" or top in sys.stdlib_module_names):
            found.append(f"{where}:{lineno}: imports {module} (only backend.* and the standard library)")
    return found


def test_every_function_folder_has_a_handler():
    folders = sorted(p for p in LAMBDAS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    assert folders, "no lambdas/<function-name>/ folders found"
    assert [p for p in folders if not (p / "handler.py").is_file()] == []


@pytest.mark.parametrize("path", _handlers(), ids=lambda p: p.parent.name)
def test_handler_imports_only_backend_and_stdlib(path: Path):
    assert _violations(path) == []


def test_the_check_sees_each_kind_of_violation(tmp_path: Path):
    """The rule is not vacuous: a handler written against the SDK fails on each count."""
    bad = tmp_path / "handler.py"
    bad.write_text(
        "import json\n"
        "import boto3\n"
        "from botocore.config import Config\n"
        "from pynamodb.models import Model\n"
        "import reflex as rx\n"
        "import requests\n"
        "from . import helpers\n"
        "from backend.api.lambda_door import handle_http\n"
    )
    found = _violations(bad)
    assert [v.split(": ", 1)[1] for v in found] == [
        "imports boto3 (forbidden in a Lambda handler)",
        "imports botocore.config (forbidden in a Lambda handler)",
        "imports pynamodb.models (forbidden in a Lambda handler)",
        "imports reflex (forbidden in a Lambda handler)",
        "imports requests (only backend.* and the standard library)",
        "imports . (only backend.* and the standard library)",
    ]
