"""Staging the Lambda assets: what a function folder holds, and when the layer's dependencies are installed."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from backend.api.routes import LAMBDA_ROUTES as ROUTES, Route  # the app serves the rest (routes.APP)
from infra import asset_staging
from infra.wecare_stack import deployable_routes, triggered_functions


def test_a_staged_function_holds_its_handler_and_the_backend_without_caches(tmp_path):
    stale = tmp_path / "functions" / "contacts-read" / "left-over.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("stale = True\n")

    staged = asset_staging.stage_function("contacts-read", tmp_path)

    source = asset_staging.function_source_dir("contacts-read") / "handler.py"
    assert (staged / "handler.py").read_text() == source.read_text()
    assert (staged / "backend" / "models" / "schema.py").is_file()
    assert (staged / "backend" / "api" / "routes.py").is_file()
    assert not stale.exists()
    assert not [p for p in staged.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]


def test_every_routed_function_has_a_handler_to_stage():
    routes, missing = deployable_routes(ROUTES)
    assert missing == [] and routes == ROUTES


def test_every_queue_topic_or_schedule_function_has_a_handler_to_stage():
    assert [name for name in triggered_functions() if not asset_staging.has_handler(name)] == []


def test_routes_of_a_function_without_a_folder_are_left_out():
    ghost = Route("GET", "/ghosts", "no-such-function", ROUTES[0].endpoint, ROUTES[0].requires)
    routes, missing = deployable_routes((*ROUTES, ghost))
    assert missing == ["no-such-function"]
    assert ghost not in routes and len(routes) == len(ROUTES)


@pytest.fixture
def pip_calls(monkeypatch) -> list[list[str]]:
    """Records pip commands instead of running them; each "install" leaves a package in the target."""
    calls: list[list[str]] = []

    def fake_run(command, check):
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "pydantic").mkdir(parents=True)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(asset_staging.subprocess, "run", fake_run)
    return calls


def test_a_plain_synth_never_runs_pip_and_leaves_the_layer_empty(tmp_path, pip_calls):
    layer = asset_staging.stage_layer(tmp_path, install_deps=False)

    assert pip_calls == []
    assert layer.has_dependencies is False
    assert (layer.path / "python").is_dir() and not any((layer.path / "python").iterdir())


def test_install_deps_fetches_lambda_wheels_into_the_layer(tmp_path, pip_calls):
    layer = asset_staging.stage_layer(tmp_path, install_deps=True)

    (command,) = pip_calls
    joined = " ".join(command)
    assert f"--target {layer.path / 'python'}" in joined
    assert "--platform manylinux2014_x86_64" in joined and "--python-version 3.12" in joined
    assert "--only-binary=:all:" in command and "--no-deps" in command
    assert f"-r {asset_staging.LAYER_REQUIREMENTS}" in joined
    assert layer.has_dependencies and (layer.path / "python" / "pydantic").is_dir()


def test_a_later_plain_synth_keeps_deps_installed_from_the_same_requirements_only(tmp_path, pip_calls):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pydantic==2.14.4\n")
    asset_staging.stage_layer(tmp_path / "build", install_deps=True, requirements=requirements)

    reused = asset_staging.stage_layer(tmp_path / "build", install_deps=False, requirements=requirements)
    assert reused.has_dependencies and (reused.path / "python" / "pydantic").is_dir()

    requirements.write_text("pydantic==2.14.5\n")
    outdated = asset_staging.stage_layer(tmp_path / "build", install_deps=False, requirements=requirements)
    assert not outdated.has_dependencies and not any((outdated.path / "python").iterdir())
    assert len(pip_calls) == 1
