"""`make run` installs only what runs: requirements.txt is the runtime closure, the tools live in requirements-dev.txt."""
from __future__ import annotations

import sys
from importlib.metadata import requires, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
TOOLS = {"pytest", "pytest-xdist", "moto", "playwright", "selenium", "aws-cdk-lib", "constructs", "cfn-lint",
         "import-linter", "hypothesis", "schemathesis", "uvicorn", "responses"}
THIS_PYTHON = {"python_version": f"{sys.version_info.major}.{sys.version_info.minor}", "extra": ""}


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-r "):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{path.name}: pin exactly: {line}"
            pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def test_the_runtime_requirements_hold_no_test_or_deploy_tool():
    runtime = _pins(ROOT / "requirements.txt")
    assert {"reflex", "pynamodb", "boto3"} <= set(runtime)
    assert not TOOLS & set(runtime)


def test_the_dev_requirements_build_on_the_runtime_ones_without_repinning_them():
    dev_text = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev_text.splitlines()
    assert not set(_pins(ROOT / "requirements-dev.txt")) & set(_pins(ROOT / "requirements.txt"))


def test_the_runtime_requirements_are_a_complete_closure():
    """Every dependency of a runtime pin is itself pinned there, so `make run` never pulls an unpinned package."""
    runtime = _pins(ROOT / "requirements.txt")
    missing = {}
    for name, pinned in runtime.items():
        assert version(name) == pinned, f"the venv has {name} {version(name)}; run make test to reinstall"
        for line in requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate({**THIS_PYTHON}):
                continue
            if canonicalize_name(requirement.name) not in runtime:
                missing.setdefault(canonicalize_name(requirement.name), []).append(name)
    assert missing == {}, f"pin these in requirements.txt: {missing}"
