"""Embedded DynamoDB Local (AWS's own engine, from the npm package `amplify-dynamodb-simulator`).

`ensure_running` starts it only when nothing answers on the port (a file lock stops two processes
racing), ties its life to the starting process (Linux parent-death signal: no orphan), and waits
until it answers. It listens on 127.0.0.1 only: the engine itself would listen on every interface, so it
is started through a small launcher (`LoopbackDynamoDB.java`, compiled once) that binds its server to
the loopback address.
"""
from __future__ import annotations

import ctypes
import fcntl
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from backend.settings import Settings, get_settings

DEFAULT_JAR = Path(".tools/dynamodb-local/emulator/DynamoDBLocal.jar")
LAUNCHER_SOURCE = Path(__file__).with_name("LoopbackDynamoDB.java")
LAUNCHER_CLASS = "LoopbackDynamoDB"
_PR_SET_PDEATHSIG = 1


class DynamoDBLocalError(RuntimeError):
    pass


@dataclass
class DynamoDBLocal:
    port: int
    db_dir: Path | None  # None: in memory (tests)
    jar: Path = DEFAULT_JAR
    process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answering(self) -> bool:
        try:
            with urllib.request.urlopen(self.endpoint, timeout=0.5):
                return True
        except urllib.error.HTTPError:
            return True  # it answers (400 to a bare GET) — that is all we need to know
        except (urllib.error.URLError, OSError):
            return False

    def ensure_running(self, timeout_s: float = 60.0) -> bool:
        """Start unless already answering. Returns True if this call started it."""
        lock_path = Path(self.db_dir or Path(".data")).resolve() / f".dynamodb-{self.port}.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.answering():
                return False
            self._start()
            self._wait(timeout_s)
            return True

    def _start(self) -> None:
        java = shutil.which("java")
        if java is None:
            raise DynamoDBLocalError(
                "Java is needed for the embedded DynamoDB Local but was not found. Install it with "
                "`sudo apt-get install -y openjdk-17-jdk-headless` (or run `make run`, which does)."
            )
        jar = self.jar.resolve()
        if not jar.exists():
            raise DynamoDBLocalError(f"DynamoDB Local is not installed at {jar}; run `make install` first.")
        launcher = _compiled_launcher(jar)
        if _port_taken(self.port):
            raise DynamoDBLocalError(f"Port {self.port} is in use by something that is not DynamoDB Local.")
        storage = ["-inMemory"] if self.db_dir is None else ["-dbPath", str(Path(self.db_dir).resolve())]
        if self.db_dir is not None:
            Path(self.db_dir).mkdir(parents=True, exist_ok=True)
        command = [
            java,
            "-Xms256m",
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-cp",
            _classpath(launcher, jar),
            LAUNCHER_CLASS,
            "-sharedDb",
            *storage,
            "-port",
            str(self.port),
            "-disableTelemetry",
        ]
        work_dir = Path(self.db_dir or ".data").resolve()  # it writes a metadata file into its cwd
        work_dir.mkdir(parents=True, exist_ok=True)
        log_path = work_dir / f"dynamodb-local-{self.port}.log"
        self.process = subprocess.Popen(
            command,
            stdout=open(log_path, "ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=work_dir,
            preexec_fn=_die_with_parent,
        )

    def _wait(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.answering():
            if self.process is not None and self.process.poll() is not None:
                raise DynamoDBLocalError(f"DynamoDB Local exited with code {self.process.returncode}; see its log.")
            if time.monotonic() > deadline:
                self.stop()
                raise DynamoDBLocalError(f"DynamoDB Local did not answer on port {self.port} within {timeout_s:.0f}s.")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _classpath(launcher: Path, jar: Path) -> str:
    return ":".join((str(launcher), str(jar), str(jar.parent / "DynamoDBLocal_lib" / "*")))


def _compiled_launcher(jar: Path) -> Path:
    """The folder holding LoopbackDynamoDB.class, compiled from its source when missing or older (once, under a
    lock, beside the engine's files)."""
    target = jar.parent.parent / "launcher"
    compiled = target / f"{LAUNCHER_CLASS}.class"
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".compile.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if compiled.exists() and compiled.stat().st_mtime >= LAUNCHER_SOURCE.stat().st_mtime:
            return target
        javac = shutil.which("javac")
        if javac is None:
            raise DynamoDBLocalError(
                "The embedded DynamoDB Local is started through a small launcher that keeps it on 127.0.0.1, and "
                "compiling it needs the JDK: `sudo apt-get install -y openjdk-17-jdk-headless` (or run `make run`, "
                "which does)."
            )
        result = subprocess.run(
            [javac, "-nowarn", "-cp", _classpath(target, jar), "-d", str(target), str(LAUNCHER_SOURCE)],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise DynamoDBLocalError(f"Could not compile the DynamoDB Local launcher: {result.stderr.strip()[-500:]}")
    return target


def _die_with_parent() -> None:
    """Runs in the child before exec: ask the kernel to SIGTERM it when the parent dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def for_settings(settings: Settings | None = None) -> DynamoDBLocal:
    settings = settings or get_settings()
    return DynamoDBLocal(port=settings.dynamodb_local_port, db_dir=settings.data_dir / "dynamodb")


def uses_embedded(settings: Settings) -> bool:
    """Only local runs without an explicit endpoint use the embedded engine."""
    return settings.is_local and not settings.dynamodb_endpoint


def run_foreground() -> int:
    local = for_settings()
    started = local.ensure_running()
    print(f"DynamoDB Local {'started' if started else 'already running'} at {local.endpoint}")
    if not started:
        return 0
    try:
        local.process.wait()
    except KeyboardInterrupt:
        local.stop()
    return 0
