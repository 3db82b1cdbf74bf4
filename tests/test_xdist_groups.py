"""The suite's xdist groups hold: under `--dist loadgroup` every test of a group runs on one worker.

pytest 9.2 drops the group pytest-xdist 3.8 writes into a test's id (pytest-dev/pytest-xdist#1386),
and every group then spreads over both workers, each building the group's shared fixtures; the
test runner is pinned (scripts/constraints.txt), and this test fails if grouping is lost again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# a group of four among singletons: spread one by one, the group would land on both workers
TESTS = """
import os
import pytest

def record(name):
    with open("ran.txt", "a") as out:
        out.write(name + " " + os.environ["PYTEST_XDIST_WORKER"] + "\\n")

@pytest.mark.xdist_group("shared")
@pytest.mark.parametrize("i", range(2))
def test_grouped(i):
    record(f"grouped{i}")

@pytest.mark.parametrize("i", range(8))
def test_alone(i):
    record(f"alone{i}")

@pytest.mark.xdist_group(name="shared")
def test_grouped_too():
    record("grouped-too")

class TestInAClass:
    @pytest.mark.xdist_group("shared")
    def test_grouped_in_a_class(self):
        record("grouped-in-a-class")
"""


def run_workers(folder: Path, dist: str) -> dict[str, str]:
    """Which worker ran each test of TESTS."""
    (folder / "test_groups.py").write_text(TESTS)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", dist, "-p", "no:cacheprovider"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(line.split() for line in (folder / "ran.txt").read_text().splitlines())


def group_workers(ran: dict[str, str]) -> set[str]:
    return {worker for name, worker in ran.items() if name.startswith("grouped")}


@pytest.mark.slow
def test_a_group_runs_on_one_worker(tmp_path):
    ran = run_workers(tmp_path, "loadgroup")
    assert len(ran) == 12
    assert len(group_workers(ran)) == 1, ran
    assert set(ran.values()) == {"gw0", "gw1"}  # the singletons still spread over both
