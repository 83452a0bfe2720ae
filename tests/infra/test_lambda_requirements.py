"""The layer's requirements: the same pins as requirements.txt, and a complete closure for `pip --no-deps`."""
from __future__ import annotations

from importlib.metadata import requires, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.asset_staging import LAYER_REQUIREMENTS, REPO_ROOT

# What the Lambda Python runtime already provides (boto3 and its dependency tree).
RUNTIME_PROVIDED = {"boto3", "botocore", "jmespath", "s3transfer", "python-dateutil", "six", "urllib3"}
BACKEND_NEEDS = {"pynamodb", "phonenumbers", "pydantic", "pydantic-settings", "argon2-cffi", "nh3"}  # nh3: email HTML
LAMBDA_PYTHON = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "extra": "",
}


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", line
            pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def test_layer_pins_are_the_project_pins():
    layer, project = _pins(LAYER_REQUIREMENTS), _pins(REPO_ROOT / "requirements.txt")
    assert BACKEND_NEEDS <= set(layer)
    assert {name: project.get(name) for name in layer} == layer
    assert not set(layer) & RUNTIME_PROVIDED


def test_layer_requirements_are_a_complete_closure():
    layer = _pins(LAYER_REQUIREMENTS)
    missing = {}
    for name, pinned in layer.items():
        assert version(name) == pinned, f"the venv has {name} {version(name)}; metadata below would be for it"
        for line in requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate(LAMBDA_PYTHON):
                continue
            needed = canonicalize_name(requirement.name)
            if needed not in layer and needed not in RUNTIME_PROVIDED:
                missing.setdefault(needed, []).append(name)
    assert missing == {}, f"add these (pinned as in requirements.txt) to {LAYER_REQUIREMENTS.name}: {missing}"
