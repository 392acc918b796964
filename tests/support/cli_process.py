"""The `brightrun` command line as a child process: run to the end, or start and finish later.

`run_cli` forks each command from a forkserver that has imported the CLI once: a child process of
its own (its environment, its exit code, its stdout and stderr) without the second of imports a
fresh interpreter spends. `start_claude_cli` starts a fresh interpreter: tests that signal, kill or
watch a process by pid use it.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import traceback

from tests.support.environment import clean_env
from tests.support.fake_claude import claude_env
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.paths import REPO


def brightrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "brightrun_gen", *args]


# The forkserver is one single-threaded process: forking from it is safe where forking the test
# process (fake servers in threads) is not.
_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(["brightrun_gen.cli"])


def run_cli(*args: str, db: str | None = None, env: dict | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `brightrun ARGS [--db DB]` to the end with the test's environment (default: a clean one)."""
    argv = [*args, *(["--db", db] if db else [])]
    with tempfile.TemporaryDirectory(prefix="brightrun-cli-") as folder:
        out, err = os.path.join(folder, "stdout"), os.path.join(folder, "stderr")
        child = _FORKS.Process(target=_cli_child, args=(argv, env or clean_env(), out, err), daemon=True)
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
            raise AssertionError(f"brightrun {' '.join(argv)} did not end within {timeout} s")
        with open(out, encoding="utf-8") as stdout, open(err, encoding="utf-8") as stderr:
            return subprocess.CompletedProcess(brightrun(*argv), child.exitcode, stdout.read(), stderr.read())


def _cli_child(argv: list[str], env: dict, out: str, err: str) -> None:
    """In the forked child: the environment, working folder and standard streams a fresh `brightrun` would have."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(REPO)
    for fd, path in ((1, out), (2, err)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(handle, fd)
        os.close(handle)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
    from brightrun_gen.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors, as the interpreter would end on them
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # what a fresh interpreter prints for an uncaught exception
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


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
