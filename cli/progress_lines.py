"""The lines `snout run` prints as each component starts and ends: written by cli/progress.py, read back
by the benches (bench/bench_overhead.py, bench/bench_scale.py) and the portable run's test.

Standard library only, so a bench driver can import it without TFX or TensorFlow.
"""

import re

PREFIX = "[snout]"
# Groups: the component's id.
STARTED = re.compile(re.escape(PREFIX) + r" \(\d+/\d+\) (\S+) \.\.\.")
# Groups: the component's id, "ran" or "cached", its seconds.
FINISHED = re.compile(re.escape(PREFIX) + r"\s+(\S+) (ran|cached) in ([0-9.]+)s")


def started_line(position, total: int, node_id: str) -> str:
    """`position` is the node's 1-based place in the DAG's order, or "?" for a node outside it."""
    return f"{PREFIX} ({position}/{total}) {node_id} ..."


def finished_line(node_id: str, seconds: float, cached: bool) -> str:
    return f"{PREFIX}     {node_id} {'cached' if cached else 'ran'} in {seconds:.1f}s"
