"""A few people on the dashboard while a job runs: no errors, the progress panel keeps moving, pages stay quick.

The light, always-on version of bench/bench_load.py (20 sessions): the same server, driver and
measurements with 5 sessions, one of them reloading and filtering, and a job of 60 conversations at
the local Messages API server.
"""

from __future__ import annotations

from bench.bench_load import LIGHT_SERVER, run_load

SESSIONS = 5
JOB = 60
LATENCY = 0.4  # 60 calls, 4 at a time: at least 6 s of work, three panel polls and more


def test_five_sessions_on_the_dashboard_while_a_job_of_60_runs(tmp_path, capsys):
    """Behaviour under load; the timing targets (p95 < 1 s, updates within 2 s) live in
    bench/bench_load.py, which prints them, because a shared 2-core CI machine makes timed
    assertions flaky."""
    result = run_load(SESSIONS, JOB, LATENCY, 4, tmp_path, active=1, server_options=LIGHT_SERVER,
                      warm_up=True)
    with capsys.disabled():
        print("\n" + "\n".join(f"  load: {line}" for line in result.lines()))
    assert not result.errors, result.errors
    assert result.job_size == JOB
    assert len(result.panel_gaps) >= 3, "the progress panel did not update while the job ran"
    assert result.shown_after != float("inf"), "a job queued elsewhere never showed in the sidebar"
    assert result.server_runs and result.reruns and result.page_loads
