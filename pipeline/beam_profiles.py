"""Named Beam pipeline-args profiles: where Beam jobs run, those of the Beam-powered components
(ExampleGen, StatisticsGen, Transform, Evaluator), of `snout ingest` and of `snout predict --model`.
The flags that choose them are pipeline/beam_options.py.

    beam_args("local")                                       # DirectRunner, one process per core
    beam_args("local", data_bytes=8_000_000)                 # DirectRunner in-process (small data)
    beam_args("dataflow", project="p", region="europe-west1",
              temp_location="gs://b/tmp", image="eu.gcr.io/p/snout:0.1.0")
    beam_args("flink", job_endpoint="flink-jobserver:8099", image="...")
    beam_args("spark", job_endpoint="spark-jobserver:8099", image="...")
    beam_args("portable", job_endpoint="embed", environment_type="EXTERNAL",
              environment_config="localhost:50000")          # any Beam job service
    beam_args("dask", dask_address="127.0.0.1:8786")         # a dask.distributed scheduler

Every profile takes `extra_args` (a list of raw `--flag=value` strings, appended last).
Missing required parameters and unknown ones are a UserError naming them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from contract.errors import UserError

DIRECT_MODES = ("multi_processing", "multi_threading", "in_memory")
ENVIRONMENT_TYPES = ("DOCKER", "EXTERNAL", "PROCESS", "LOOPBACK")
DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"
# "auto" (the local default): Beam inside the component's own process for a dataset whose records
# add up to less than IN_PROCESS_MAX_BYTES, worker processes above it. A worker process starts its
# own Python, TensorFlow and TFX (and the Evaluator's model) before it reads a record: seconds of
# fixed cost per component that only pays off on data large enough to keep two cores busy
# (measured: README, "Beam in-process below a crossover"). Without a size (a compiled Kubeflow
# spec) auto means worker processes, as before.
AUTO_MODE = "auto"
IN_PROCESS_MODE = "in_memory"
IN_PROCESS_MAX_BYTES = 256 * 2**20
# In-process, DirectRunner workers are threads of one process: TensorFlow already uses every core inside
# one, and a second thread split tiny bundles (the Evaluator on 16 test images: 13.3 s with 2, 8.5 s with 1).
IN_PROCESS_WORKERS = 1


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    needs: str
    required: Tuple[str, ...] = ()
    optional: Dict[str, object] = field(default_factory=dict)
    commands: Optional[Tuple[str, ...]] = None  # the snout commands it can run (None: every one)
    refusal: str = ""                           # why it cannot run the others


PROFILES: Dict[str, Profile] = {p.name: p for p in (
    Profile("local", "Beam DirectRunner inside the component's own process/pod: in-process below "
            "IN_PROCESS_MAX_BYTES of records (mode auto), else one worker process per core",
            "nothing; workers=0 means one per CPU core of the machine (or pod) that runs the component",
            optional={"workers": None, "mode": AUTO_MODE, "data_bytes": None}),
    Profile("dataflow", "Google Cloud Dataflow (runner v2), workers run the snout image",
            "a GCP project with the Dataflow API on, a region, a gs:// temp_location the job's service "
            "account can write, and the snout image pushed where Dataflow can pull it",
            required=("project", "region", "temp_location", "image"),
            optional={"staging_location": None, "max_num_workers": None, "machine_type": None,
                      "service_account_email": None, "network": None, "subnetwork": None}),
    Profile("flink", "Apache Flink through Beam's portable runner (a Flink job server)",
            "a Beam Flink job server (apache/beam_flink<ver>_job_server) at job_endpoint; SDK workers "
            "either as Docker containers of the snout image on the task managers (DOCKER, needs Docker "
            "there) or as a worker-pool sidecar of the snout image started with --worker_pool "
            "(EXTERNAL, environment_config=host:port, usually localhost:50000)",
            required=("job_endpoint",),
            optional={"image": None, "environment_type": "DOCKER", "environment_config": None,
                      "parallelism": None}),
    Profile("spark", "Apache Spark through Beam's portable runner (a Spark job server)",
            "a Beam Spark job server (apache/beam_spark3_job_server) at job_endpoint pointed at the Spark "
            "master; SDK workers as for flink (DOCKER with the snout image, or an EXTERNAL worker pool)",
            required=("job_endpoint",),
            optional={"image": None, "environment_type": "DOCKER", "environment_config": None}),
    Profile("portable", "Beam's PortableRunner to any Beam job service (`embed`: Beam's own, in this process)",
            "a job service at job_endpoint (or `embed`) and SDK workers that run snout's code: EXTERNAL, a "
            "worker pool (python -m apache_beam.runners.worker.worker_pool_main --service_port=PORT, "
            "started with snout's python first on PATH) at environment_config=host:port; DOCKER, the snout "
            "image; LOOPBACK, this process",
            required=("job_endpoint",),
            optional={"image": None, "environment_type": "DOCKER", "environment_config": None}),
    Profile("dask", "Beam's DaskRunner on a dask.distributed cluster (`snout ingest` only)",
            "a dask scheduler at dask_address whose workers run snout's Python environment (dask and "
            "distributed installed, as setup.sh does)",
            required=("dask_address",), commands=("ingest",),
            refusal="Beam 2.74's DaskRunner hands every consumer of a multi-output ParDo all of its outputs "
                    "and computes only the pipeline's last sink (README: Where Beam runs)"),
)}

# Parameters a command measures itself (snout run: its dataset's record bytes), never a flag.
MEASURED_PARAMETERS = ("data_bytes",)
# Flags whose name is not --beam-<parameter>.
_FLAGS = {"dask_address": "--dask-address"}


def profile_names() -> List[str]:
    return list(PROFILES)


def parameters_of(profile: str) -> Tuple[str, ...]:
    spec = PROFILES.get(profile)
    return spec.required + tuple(spec.optional) if spec else ()


def check_command(profile: str, command: str) -> None:
    """UserError when the profile cannot run `snout <command>`'s Beam jobs."""
    spec = PROFILES.get(profile)
    if spec and spec.commands is not None and command not in spec.commands:
        raise UserError(f"Beam profile {profile!r} runs only `snout {', '.join(spec.commands)}`, not "
                        f"`snout {command}`: {spec.refusal}")


def beam_args(profile: str, extra_args: Optional[Sequence[str]] = None, **params) -> List[str]:
    """The Beam pipeline args of one named profile. Parameters given as None count as not given."""
    if profile not in PROFILES:
        raise UserError(f"unknown Beam profile {profile!r}; choose one of {', '.join(PROFILES)}")
    spec = PROFILES[profile]
    given = {k: v for k, v in params.items() if v is not None and v != ""}
    unknown = sorted(set(given) - set(spec.required) - set(spec.optional))
    if unknown:
        raise UserError(f"Beam profile {profile!r} takes no parameter(s) {', '.join(unknown)} "
                        f"(it takes: {', '.join(spec.required + tuple(spec.optional)) or 'none'})")
    values = {**{k: v for k, v in spec.optional.items() if v is not None}, **given}
    args = _BUILDERS[profile](values)
    for extra in extra_args or ():
        if not str(extra).startswith("--"):
            raise UserError(f"extra Beam arg {extra!r} must look like --name=value")
        args.append(str(extra))
    return args


def _require(profile: str, values: dict, names: Sequence[str]) -> None:
    missing = [n for n in names if not values.get(n)]
    if missing:
        raise UserError(f"Beam profile {profile!r} needs {', '.join(missing)} "
                        f"(flags: {', '.join(flag(n) for n in missing)})")


NO_PRISM_ARG = "--allow_unsafe_triggers"


def flag(name: str) -> str:
    """The command-line flag that sets a profile parameter (pipeline/beam_options.py)."""
    return _FLAGS.get(name, "--beam-" + name.replace("_", "-"))


def auto_mode(data_bytes: Optional[int]) -> str:
    """The DirectRunner mode for a dataset of `data_bytes` record bytes (None: unknown, so processes)."""
    if data_bytes is not None and int(data_bytes) < IN_PROCESS_MAX_BYTES:
        return IN_PROCESS_MODE
    return "multi_processing"


def record_bytes(data_dir: str) -> Optional[int]:
    """The bytes of a local dataset's TFRecord files (every split), or None for a remote one."""
    if "://" in data_dir or not os.path.isdir(data_dir):
        return None
    total = 0
    for folder, _, files in os.walk(data_dir, followlinks=True):
        total += sum(os.path.getsize(os.path.join(folder, name)) for name in files if ".tfrecord" in name)
    return total


def _local(v: dict) -> List[str]:
    mode = v["mode"]
    if mode == AUTO_MODE:
        mode = auto_mode(v.get("data_bytes"))
    if mode not in DIRECT_MODES:
        raise UserError(f"Beam profile 'local': mode {mode!r} is not one of {AUTO_MODE}, {', '.join(DIRECT_MODES)}")
    workers = v.get("workers")
    if workers is None:  # in-process chosen by auto: one bundle at a time (more threads only cost here)
        workers = IN_PROCESS_WORKERS if v["mode"] == AUTO_MODE and mode == IN_PROCESS_MODE else (os.cpu_count() or 1)
    workers = int(workers)
    if workers < 0:
        raise UserError("Beam profile 'local': workers must be >= 0 (0: one per CPU core at run time)")
    # Beam 2.74's DirectRunner first tries Prism, a Go binary it downloads from GitHub at run time, which
    # ignores the mode and workers; it skips Prism for pipelines allowing unsafe triggers (batch has none).
    return [f"--direct_running_mode={mode}", f"--direct_num_workers={workers}", NO_PRISM_ARG]


def _dataflow(v: dict) -> List[str]:
    _require("dataflow", v, PROFILES["dataflow"].required)
    if not str(v["temp_location"]).startswith("gs://"):
        raise UserError(f"Beam profile 'dataflow': temp_location must be a gs:// path, got {v['temp_location']}")
    args = ["--runner=DataflowRunner", f"--project={v['project']}", f"--region={v['region']}",
            f"--temp_location={v['temp_location']}", "--experiments=use_runner_v2",
            f"--sdk_container_image={v['image']}"]
    for name in ("staging_location", "max_num_workers", "machine_type", "service_account_email", "network",
                 "subnetwork"):
        if v.get(name) is not None:
            args.append(f"--{name}={v[name]}")
    return args


def _portable(profile: str, v: dict) -> List[str]:
    _require(profile, v, PROFILES[profile].required)
    env = str(v["environment_type"]).upper()
    if env not in ENVIRONMENT_TYPES:
        raise UserError(f"Beam profile {profile!r}: environment_type {env!r} is not one of "
                        f"{', '.join(ENVIRONMENT_TYPES)}")
    if env == "DOCKER":
        config = v.get("environment_config") or v.get("image")
        if not config:
            raise UserError(f"Beam profile {profile!r} with environment_type DOCKER needs image "
                            "(the snout image the SDK workers run; flag: --beam-image, compile-kubeflow: --image)")
    elif env == "LOOPBACK":
        config = None
    else:
        config = v.get("environment_config")
        if not config:
            raise UserError(f"Beam profile {profile!r} with environment_type {env} needs environment_config "
                            "(EXTERNAL: the worker pool's host:port, e.g. localhost:50000; flag: "
                            "--beam-environment-config)")
    args = ["--runner=PortableRunner", f"--job_endpoint={v['job_endpoint']}", f"--environment_type={env}"]
    if config:
        args.append(f"--environment_config={config}")
    if v.get("parallelism") is not None:
        args.append(f"--parallelism={v['parallelism']}")
    return args


def _dask(v: dict) -> List[str]:
    _require("dask", v, PROFILES["dask"].required)
    return [f"--runner={DASK_RUNNER}", f"--dask_client_address={v['dask_address']}"]


_BUILDERS = {
    "local": _local,
    "dataflow": _dataflow,
    "flink": lambda v: _portable("flink", v),
    "spark": lambda v: _portable("spark", v),
    "portable": lambda v: _portable("portable", v),
    "dask": _dask,
}
