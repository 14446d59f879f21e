"""TFX's LocalDagRunner, running at the same time the nodes whose upstream nodes have all finished.

TFX 1.16's LocalDagRunner launches the nodes one after another in topological order (its own
TODO, b/171319478, plans threads). snout's DAG has independent branches that then wait on each
other for nothing: the DataAudit beside the Trainer, and after the Trainer the Evaluator, the edge
export and the infra check, which on 2 cores leave a core idle for much of their time (a converter,
an interpreter, a fresh process importing TensorFlow). This runner launches each node with TFX's
own Launcher, as LocalDagRunner does, in up to MAX_PARALLEL_NODES threads at once, as soon as every
upstream node has finished. The DAG, the artifacts, the cache keys and the blessings are the same;
only the order of independent executions in MLMD differs.

- MLMD: every launcher opens its own SQLite connection, and SQLite answers "database is locked"
  to a write while another connection writes, so each MLMD session (a `with Metadata` block:
  resolve inputs, register, publish) holds one process-wide lock. Executors do not touch MLMD.
- Failure: a node that raises stops new launches; the nodes already running finish (their outputs
  are cached for the next run), then the first error is raised, as LocalDagRunner raises it. Ctrl-C
  ends the run at once (the nodes run in daemon threads).
- Partial runs (run_options) keep TFX's sequential path.
"""

from __future__ import annotations

import contextlib
import datetime
import queue
import threading
from typing import Dict, Optional, Set, Tuple

from tfx.dsl.compiler import constants
from tfx.orchestration import metadata
from tfx.orchestration.local import runner_utils
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.orchestration.portable import launcher, runtime_parameter_utils
from tfx.proto.orchestration import pipeline_pb2
from tfx.utils import telemetry_utils

# Three is the widest point of snout's DAG (Evaluator, LiteExport, infra check after the Trainer).
MAX_PARALLEL_NODES = 3
_MLMD_LOCK = threading.RLock()


@contextlib.contextmanager
def one_mlmd_session_at_a_time():
    """While active, `with Metadata(...)` blocks in this process run one at a time (RLock: nesting is fine)."""
    original_enter, original_exit = metadata.Metadata.__enter__, metadata.Metadata.__exit__

    def enter(self):
        _MLMD_LOCK.acquire()
        try:
            return original_enter(self)
        except BaseException:
            _MLMD_LOCK.release()
            raise

    def exit_(self, *exc):
        try:
            return original_exit(self, *exc)
        finally:
            _MLMD_LOCK.release()

    metadata.Metadata.__enter__, metadata.Metadata.__exit__ = enter, exit_
    try:
        yield
    finally:
        metadata.Metadata.__enter__, metadata.Metadata.__exit__ = original_enter, original_exit


class ConcurrentLocalDagRunner(LocalDagRunner):
    """LocalDagRunner whose ready nodes run at the same time (see the module's docstring)."""

    def __init__(self, max_parallel: int = MAX_PARALLEL_NODES):
        super().__init__()
        self.max_parallel = max_parallel

    def run_with_ir(self, pipeline: pipeline_pb2.Pipeline,
                    run_options: Optional[pipeline_pb2.RunOptions] = None) -> None:
        if run_options is not None:
            return super().run_with_ir(pipeline, run_options=run_options)
        runtime_parameter_utils.substitute_runtime_parameter(
            pipeline, {constants.PIPELINE_RUN_ID_PARAMETER_NAME: datetime.datetime.now().isoformat()})
        deployment_config = runner_utils.extract_local_deployment_config(pipeline)
        connection = deployment_config.metadata_connection_config
        connection_config = getattr(connection, connection.WhichOneof("connection_config"))
        nodes = {n.pipeline_node.node_info.id: n.pipeline_node for n in pipeline.nodes
                 if not n.pipeline_node.execution_options.HasField("skip")}

        def launch(node_id: str) -> None:
            launcher.Launcher(
                pipeline_node=nodes[node_id], mlmd_connection=metadata.Metadata(connection_config),
                pipeline_info=pipeline.pipeline_info, pipeline_runtime_spec=pipeline.runtime_spec,
                executor_spec=runner_utils.extract_executor_spec(deployment_config, node_id),
                custom_driver_spec=runner_utils.extract_custom_driver_spec(deployment_config, node_id)).launch()

        with telemetry_utils.scoped_labels({telemetry_utils.LABEL_TFX_RUNNER: "local"}), \
                one_mlmd_session_at_a_time():
            run_when_ready(list(nodes), {node_id: set(node.upstream_nodes) & set(nodes)
                                         for node_id, node in nodes.items()}, launch, self.max_parallel)


def run_when_ready(order, upstream: Dict[str, Set[str]], launch, max_parallel: int) -> None:
    """Calls launch(node) for every node in `order` (topological), each once all its upstream nodes
    have returned, at most `max_parallel` at a time, ready nodes in `order`'s order. The first error
    stops new launches and is raised once the running ones have returned.

    Nodes run in daemon threads, so Ctrl-C (KeyboardInterrupt in this, the main thread) ends the run at
    once, as it did when the nodes ran in the main thread, instead of waiting for a Trainer to finish."""
    done: Set[str] = set()
    waiting, running = list(order), set()
    returned: "queue.Queue[Tuple[str, Optional[BaseException]]]" = queue.Queue()
    error: Optional[BaseException] = None

    def work(node: str) -> None:
        try:
            launch(node)
            returned.put((node, None))
        except BaseException as e:  # noqa: BLE001 - handed to the main thread, which raises it
            returned.put((node, e))

    while waiting or running:
        if error is None:
            for node in [n for n in waiting if upstream[n] <= done][:max_parallel - len(running)]:
                waiting.remove(node)
                running.add(node)
                threading.Thread(target=work, args=(node,), name=f"node-{node}", daemon=True).start()
        if not running:
            break  # only after an error: what is left waits on what failed or never ran
        node, exc = returned.get()
        running.discard(node)
        if exc is None:
            done.add(node)
        else:
            error = error or exc
    if error is not None:
        raise error
    if waiting:
        raise RuntimeError(f"nodes whose upstream nodes never finished: {', '.join(waiting)}")
