"""The bench's CPU meter (bench/stack.py ``CpuMeter``) across a restart: the reconnect
storm stops one Daphne and starts another in its measured window, and both are Daphne's
CPU, not another job's (which would mark the run disturbed). Stand-in processes here: one
that burns CPU and is stopped (``reap`` keeps what it used), one started meanwhile.
"""

import subprocess
import sys
import time

from bench import stack

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\ntime.sleep(60)\n"


def burner(seconds):
    return subprocess.Popen([sys.executable, "-c", BURN.format(s=seconds)])


def wait_for_cpu(*wanted, timeout=30):
    """Until each (process, CPU seconds) has used that much; a stuck or dead one fails."""
    deadline = time.monotonic() + timeout
    while any(stack._proc_cpu(p.pid) < s for p, s in wanted):
        assert time.monotonic() < deadline, "the stand-in processes did not burn their CPU"
        time.sleep(0.01)


def test_a_process_stopped_and_one_started_in_the_window_count_as_daphnes():
    old, started = burner(0.6), None
    try:
        live = [old]
        meter = stack.CpuMeter(lambda: [p.pid for p in live])
        meter.start()
        started = burner(0.4)
        live.append(started)
        wait_for_cpu((old, 0.5), (started, 0.35))  # both burn
        old.terminate()
        assert stack.reap(old, 10) and old.returncode == -15
        live.remove(old)
        result = meter.stop()
    finally:
        for p in (old, started):
            if p is not None and p.returncode is None:
                p.kill()
                p.wait()
    daphne_s = result["daphne"] * result["wall"] / 100
    assert stack.EXITED_CPU[old.pid] >= 0.5
    assert 0.85 <= daphne_s <= 1.5  # ~0.6 s of the one stopped and ~0.4 s of the one started


def test_a_list_of_pids_is_measured_as_before():
    p = burner(0.3)
    try:
        meter = stack.CpuMeter([p.pid])
        meter.start()
        wait_for_cpu((p, 0.25))
        result = meter.stop()
    finally:
        p.kill()
        p.wait()
    assert 0.15 <= result["daphne"] * result["wall"] / 100 <= 0.6
