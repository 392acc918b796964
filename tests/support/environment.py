"""The environment of a child process (CLI, worker, server) that a test starts."""

from __future__ import annotations

import os


def clean_env(**values: str) -> dict:
    """This process's environment without any ANTHROPIC_ or BRIGHTRUN_ variable, plus `values`: the
    child sees only the settings the test gives it, whatever the developer's shell holds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "BRIGHTRUN_"))}
    return {**env, **values}
