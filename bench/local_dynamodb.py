"""A throwaway DynamoDB Local for one benchmark run, plus a clock for where the CPU time went.

The app's own database is never touched: each run gets a new temporary directory (deleted at the end)
and a port the OS reports free, so a running `make run` on :8000 and its `.data` are left alone.
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from backend.runtime.dynamodb_local import DEFAULT_JAR, DynamoDBLocal
from backend.settings import get_settings, reset_settings_cache

REPO = Path(__file__).resolve().parents[1]

TABLE_PREFIX = "bench-"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def local_database(label: str, *, in_memory: bool = False) -> Iterator[DynamoDBLocal]:
    """Start DynamoDB Local in a fresh temp dir (on disk like the app's, or in memory), point the models at
    it, create the tables."""
    directory = Path(tempfile.mkdtemp(prefix=f"wecare-bench-{label}-"))
    database = DynamoDBLocal(port=free_port(), db_dir=None if in_memory else directory / "dynamodb", jar=REPO / DEFAULT_JAR)
    try:
        if not database.ensure_running():
            raise RuntimeError(f"port {database.port} was taken by another DynamoDB Local; run again")
        _point_settings_at(database, directory)
        started = time.perf_counter()
        _create_tables()
        print(f"DynamoDB Local at {database.endpoint} (pid {database.process.pid}), data in {directory}; "
              f"tables created in {time.perf_counter() - started:.1f} s")
        yield database
    finally:
        database.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _point_settings_at(database: DynamoDBLocal, directory: Path) -> None:
    """Settings come from `WECARE_` variables, so set them and re-read; explicit values beat `.env`."""
    os.environ.update(
        {
            "WECARE_ENV": "local",
            "WECARE_DYNAMODB_ENDPOINT": database.endpoint,
            "WECARE_DYNAMODB_LOCAL_PORT": str(database.port),
            "WECARE_TABLE_PREFIX": TABLE_PREFIX,
            "WECARE_DEFAULT_REGION": "US",
            "WECARE_DATA_DIR": str(directory),
        }
    )
    reset_settings_cache()


def _create_tables() -> None:
    from backend.models import configure_models  # models configure themselves at import; redo it now
    from backend.models.schema import init_db

    settings = get_settings()
    configure_models(settings)
    init_db(settings)


# ---------------------------------------------------------------- CPU accounting


@dataclass(frozen=True)
class CpuSample:
    wall: float
    python_cpu: float
    java_cpu: float


def cpu_sample(database: DynamoDBLocal) -> CpuSample:
    return CpuSample(time.perf_counter(), time.process_time(), _process_cpu_seconds(database.process.pid))


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU of another process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_load() -> str:
    """Other work on the machine skews every figure; say how busy it was."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


def describe_cpu(start: CpuSample, end: CpuSample) -> str:
    """Wall time and each process's CPU as a share of one core over that time."""
    wall = end.wall - start.wall
    python = end.python_cpu - start.python_cpu
    java = end.java_cpu - start.java_cpu
    share = (lambda cpu: f"{100 * cpu / wall:.0f}%") if wall > 0 else (lambda cpu: "-")
    return f"wall {wall:.2f} s | Python CPU {python:.2f} s ({share(python)}) | DynamoDB Local (Java) CPU {java:.2f} s ({share(java)})"


def p95_verdict(bench: str, scale: str, series: dict, wrong: int, target_ms: float) -> int:
    """Print the summary line of a latency bench (each kind's p95, the worst, wrong answers, PASS or MISS) and
    return its exit status. `series` maps a kind of request to what has `.percentile(95)`."""
    worst_kind = max(series, key=lambda kind: series[kind].percentile(95))
    worst = series[worst_kind].percentile(95)
    verdict = "PASS" if worst <= target_ms and wrong == 0 else "MISS"
    p95s = ", ".join(f"{kind} {s.percentile(95):.1f}" for kind, s in series.items())
    print(f"SUMMARY {bench}: {scale}; p95 ms: {p95s}; worst {worst:.1f} ms ({worst_kind}); "
          f"target p95 <= {target_ms:.0f} ms each; wrong answers {wrong}: {verdict}")
    return 0 if verdict == "PASS" else 1
