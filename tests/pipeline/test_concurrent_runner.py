"""The concurrent local runner: ready nodes at the same time, upstream order kept, the first error raised,
and under real TFX (Launcher, MLMD on SQLite) two independent nodes that can only finish together."""

import threading
import time

import pytest
from tfx.dsl.component.experimental.annotations import OutputDict, Parameter
from tfx.dsl.component.experimental.decorators import component

from pipeline.concurrent_runner import ConcurrentLocalDagRunner, run_when_ready

# A diamond: a -> (b, c) -> d.
DIAMOND = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}


def _recording(work=None):
    events, lock = [], threading.Lock()

    def launch(node):
        with lock:
            events.append(("start", node))
        if work:
            work(node)
        with lock:
            events.append(("end", node))

    return events, launch


def test_independent_nodes_run_together_and_downstream_waits_for_both():
    meet = threading.Barrier(2, timeout=10)  # b and c pass only if both run at once
    events, launch = _recording(lambda node: meet.wait() if node in "bc" else None)
    run_when_ready(list(DIAMOND), DIAMOND, launch, max_parallel=3)
    assert events[:2] == [("start", "a"), ("end", "a")]
    assert events.index(("start", "d")) > max(events.index(("end", "b")), events.index(("end", "c")))


def test_at_most_max_parallel_nodes_run_at_once():
    running, peak, lock = [0], [0], threading.Lock()

    def work(node):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    nodes = {name: set() for name in "pqrstu"}
    events, launch = _recording(work)
    run_when_ready(list(nodes), nodes, launch, max_parallel=2)
    assert peak[0] == 2 and len(events) == 12
    assert [node for kind, node in events if kind == "start"][:2] == ["p", "q"]  # ready nodes in DAG order


def test_a_failure_lets_running_nodes_finish_launches_nothing_after_and_is_raised():
    def work(node):
        if node == "b":
            raise ValueError("b failed")
        if node == "c":
            time.sleep(0.2)  # still running when b fails

    events, launch = _recording(work)
    with pytest.raises(ValueError, match="b failed"):
        run_when_ready(list(DIAMOND), DIAMOND, launch, max_parallel=3)
    assert ("end", "c") in events  # c was let finish
    assert ("start", "d") not in events  # nothing downstream of the failure


# Python-function components are defined at module level (TFX's rule); the barrier makes the sides meet.
_MEET = threading.Barrier(2, timeout=60)


@component
def Side(name: Parameter[str]) -> OutputDict(value=str):  # noqa: N802 - a component's name
    _MEET.wait()
    return {"value": name}


@component
def Join(left: str, right: str) -> OutputDict(joined=str):  # noqa: N802
    return {"joined": left + right}


def test_real_tfx_nodes_run_at_once_and_their_outputs_reach_the_node_after(tmp_path):
    """Two python-function components that wait for each other (they deadlock if run one after the other),
    then one reading both outputs: TFX's Launcher and MLMD (SQLite) with every session one at a time."""
    from pipeline import tfx_api as tfx

    left, right = Side(name="L").with_id("left"), Side(name="R").with_id("right")
    join = Join(left=left.outputs["value"], right=right.outputs["value"])
    store = str(tmp_path / "metadata.sqlite")
    ConcurrentLocalDagRunner().run(tfx.dsl.Pipeline(
        pipeline_name="concurrent", pipeline_root=str(tmp_path / "root"), components=[left, right, join],
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(store)))

    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = store
    store = metadata_store.MetadataStore(config)
    executions = store.get_executions()
    assert len(executions) == 3
    assert all(e.last_known_state == metadata_store_pb2.Execution.COMPLETE for e in executions)
    (joined,) = [a for a in store.get_artifacts() if "/Join/joined/" in a.uri]
    with open(joined.uri) as f:  # a primitive output is a file holding the value
        assert f.read() == "LR"


def test_ctrl_c_ends_the_run_at_once_without_waiting_for_a_running_node():
    import os
    import signal

    release = threading.Event()
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_when_ready(["slow"], {"slow": set()}, lambda node: release.wait(30), max_parallel=3)
        assert time.monotonic() - started < 10  # the node would have held it 30 s
    finally:
        release.set()
