"""The part of TFX's public API (`tfx.v1`) that snout's local runs use, imported from where
`tfx.v1` itself takes it.

`from tfx import v1` also imports `tfx.v1.extensions`, and with it Google Cloud's AI Platform
client, which no local run uses: measured with `python -X importtime`, 44 of 114 s of
`from tfx import v1` on a loaded 2-core machine (39%), paid by every `snout run`, rerun
included. Same classes, same objects: `tfx_api.components.Trainer is tfx.v1.components.Trainer`.
"""

from types import SimpleNamespace

from tfx.components.example_gen.import_example_gen.component import ImportExampleGen
from tfx.components.schema_gen.component import SchemaGen
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.components.statistics_gen.component import StatisticsGen
from tfx.components.trainer.component import Trainer
from tfx.components.transform.component import Transform
from tfx.components.tuner.component import Tuner
from tfx.dsl.components.common.importer import Importer
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import LatestBlessedModelStrategy
from tfx.orchestration import metadata as _metadata
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.orchestration.pipeline import Pipeline
from tfx.proto import example_gen_pb2, pusher_pb2, trainer_pb2
from tfx.types import channel, standard_artifacts

components = SimpleNamespace(ImportExampleGen=ImportExampleGen, SchemaGen=SchemaGen, ImportSchemaGen=ImportSchemaGen,
                             StatisticsGen=StatisticsGen, Trainer=Trainer, Transform=Transform, Tuner=Tuner)
dsl = SimpleNamespace(Importer=Importer, Resolver=Resolver, Pipeline=Pipeline, Channel=channel.Channel,
                      experimental=SimpleNamespace(LatestBlessedModelStrategy=LatestBlessedModelStrategy))
proto = SimpleNamespace(Input=example_gen_pb2.Input, TrainArgs=trainer_pb2.TrainArgs, EvalArgs=trainer_pb2.EvalArgs,
                        PushDestination=pusher_pb2.PushDestination)
types = SimpleNamespace(standard_artifacts=standard_artifacts)
orchestration = SimpleNamespace(
    LocalDagRunner=LocalDagRunner,
    metadata=SimpleNamespace(sqlite_metadata_connection_config=_metadata.sqlite_metadata_connection_config))
