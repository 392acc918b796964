"""The `brightrun` command line as a child process: run to the end, or start and finish later."""

from __future__ import annotations

import subprocess
import sys

from tests.support.environment import clean_env
from tests.support.fake_claude import claude_env
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.paths import REPO


def brightrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "brightrun_gen", *args]


def run_cli(*args: str, db: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `brightrun ARGS [--db DB]` to the end with the test's environment (default: a clean one)."""
    command = brightrun(*args) + (["--db", db] if db else [])
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env or clean_env(), timeout=120)


def start_claude_cli(db_url: str, fake: FakeMessagesAPI, *args: str) -> subprocess.Popen:
    """Start `brightrun ARGS` on `db_url`, generating with "Claude" at `fake`; see `finish`."""
    env = clean_env(**claude_env(fake), BRIGHTRUN_DATABASE_URL=db_url)
    return subprocess.Popen(brightrun(*args), cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(process: subprocess.Popen, timeout: float = 90) -> tuple[str, str]:
    """Wait for a CLI process; on a hang, show where it is stuck before failing."""
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        dump = subprocess.run(["py-spy", "dump", "--pid", str(process.pid)], capture_output=True, text=True)
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"process hung; stacks:\n{dump.stdout}{dump.stderr}\nstderr:\n{err[-3000:]}") from None
