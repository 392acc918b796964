"""`streamlit run app.py` in a child process, for the browser, fault, access and load tests."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from tests.support.environment import clean_env
from tests.support.fake_claude import claude_env
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.paths import REPO
from tests.support.ports import free_port
from tests.support.waiting import wait_until


def app_env(db_url: str, **extra: str) -> dict:
    """The environment of a server on the offline generator. The secrets file is pinned to one that
    does not exist, so a developer's own [auth] or key does not change what a test sees."""
    defaults = dict(BRIGHTRUN_DATABASE_URL=db_url, BRIGHTRUN_PROVIDER="offline",
                    BRIGHTRUN_SECRETS_FILE=str(Path(tempfile.gettempdir()) / "brightrun-no-secrets.toml"))
    return clean_env(**{**defaults, **extra})


def claude_app_env(db_url: str, fake: FakeMessagesAPI, **extra: str) -> dict:
    """The environment of a server that generates with "Claude" at the local Messages API server."""
    return app_env(db_url, **{**claude_env(fake), **extra})


def start_app(env: dict, log: Path, options: dict[str, str] | None = None,
              port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start the server on `port` (default: a free one) with Streamlit config `options` on top of
    .streamlit/config.toml, and wait until it answers. Its output goes to `log`: a pipe nobody
    reads would fill up and stall the server."""
    port = port or free_port()
    flags = [f"--{name}={value}" for name, value in (options or {}).items()]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
             "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false", *flags],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, log)
    except BaseException:
        stop_app(process)
        raise
    return process, base


def start_claude_app(db_url: str, fake: FakeMessagesAPI, log: Path, options: dict[str, str] | None = None,
                     port: int | None = None, **extra: str) -> tuple[subprocess.Popen, str]:
    return start_app(claude_app_env(db_url, fake, **extra), log, options, port)


def wait_healthy(base: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    def healthy() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                return answer.read().decode() == "ok"
        except OSError:
            return False

    wait_until(healthy, timeout, what=f"streamlit at {base} to answer its health check", interval=0.1)


def stop_app(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
