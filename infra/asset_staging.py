"""Stage the Lambda code and the dependency layer as plain folders under `infra/build/` for CDK assets.

A function's folder holds its `lambdas/<name>/` files and a copy of the `backend/` package. The layer's
dependencies are installed from PyPI only when asked (`install_deps`, i.e. a real deploy), so tests and a
plain synth stay offline and fast; otherwise the layer keeps an earlier install made from the same
requirements file, or stays empty (and the stack warns that it cannot run).
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = REPO_ROOT / "lambdas"
BACKEND_DIR = REPO_ROOT / "backend"
LAYER_REQUIREMENTS = Path(__file__).resolve().parent / "lambda-requirements.txt"

# Wheels for the Lambda runtime, whatever machine runs the synth: Python 3.12 on x86_64 Amazon Linux 2023
# (glibc 2.34), so manylinux_2_28 wheels fit as well; argon2-cffi-bindings 26 publishes no older tag.
LAYER_PIP_TARGET_FLAGS = (
    "--platform", "manylinux2014_x86_64",
    "--platform", "manylinux_2_28_x86_64",
    "--implementation", "cp",
    "--python-version", "3.12",
    "--only-binary=:all:",
)
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


@dataclass(frozen=True)
class StagedLayer:
    path: Path  # the asset folder; Lambda mounts its `python/` on the import path
    has_dependencies: bool


def function_source_dir(function: str) -> Path:
    return LAMBDAS_DIR / function


def has_handler(function: str) -> bool:
    return (function_source_dir(function) / "handler.py").is_file()


def stage_function(function: str, build_dir: Path) -> Path:
    """A fresh `build/functions/<function>/` with `handler.py` (and its siblings) and `backend/`."""
    target = build_dir / "functions" / function
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(function_source_dir(function), target, ignore=_IGNORED)
    shutil.copytree(BACKEND_DIR, target / "backend", ignore=_IGNORED)
    return target


def stage_layer(build_dir: Path, install_deps: bool, requirements: Path = LAYER_REQUIREMENTS) -> StagedLayer:
    layer_dir = build_dir / "layer"
    site_dir = layer_dir / "python"
    stamp = build_dir / "layer-requirements.sha256"  # outside the asset, so it does not change its hash
    wanted = hashlib.sha256(requirements.read_bytes()).hexdigest()
    installed = stamp.read_text().strip() if stamp.is_file() else None
    if install_deps:
        shutil.rmtree(layer_dir, ignore_errors=True)
        site_dir.mkdir(parents=True)
        install_layer_dependencies(site_dir, requirements)
        stamp.write_text(wanted + "\n")
        return StagedLayer(layer_dir, has_dependencies=True)
    if installed == wanted and site_dir.is_dir():
        return StagedLayer(layer_dir, has_dependencies=True)
    shutil.rmtree(layer_dir, ignore_errors=True)
    stamp.unlink(missing_ok=True)
    site_dir.mkdir(parents=True)
    return StagedLayer(layer_dir, has_dependencies=False)


def install_layer_dependencies(site_dir: Path, requirements: Path = LAYER_REQUIREMENTS) -> None:
    """`--no-deps`: the requirements file is the full closure, minus what the Lambda runtime provides."""
    command = [
        sys.executable, "-m", "pip", "install",
        "--target", str(site_dir),
        *LAYER_PIP_TARGET_FLAGS,
        "--no-deps",
        "--no-compile",  # byte-code from this interpreter's version would be dead weight on 3.12
        "--disable-pip-version-check",
        "--quiet",
        "-r", str(requirements),
    ]
    subprocess.run(command, check=True)
