"""The one Beam option set of every command that runs Beam: `snout run`, `snout ingest`,
`snout predict --model` and `snout compile-kubeflow`.

    options = BeamOptions.from_args(args)       # after BeamOptions.add_arguments(parser)
    options.pipeline_args("run")                # ["--runner=PortableRunner", "--job_endpoint=embed", ...]
    options.pipeline_args("predict", mode="in_memory")  # a command's own default for a parameter not given

`--beam-profile` names a profile of pipeline/beam_profiles.py; each profile parameter is one
`--beam-<name>` flag (the Dask scheduler's is `--dask-address`), and `--beam-arg=--name=value`
(repeatable) appends any other Beam option. What the commands hand on is plain pipeline args:
ingest/ and serving/ sit below pipeline/ and never see this class.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
from dataclasses import dataclass, field
from typing import Optional, Tuple

from contract.settings import Settings
from pipeline import beam_profiles


def _param(help_text: str, **kw):
    return field(default=None, metadata={"help": help_text, **kw})


@dataclass(frozen=True)
class BeamOptions(Settings):
    profile: str = "local"
    # local: the DirectRunner in the process that runs the Beam job.
    workers: Optional[int] = _param("local: DirectRunner workers (0: one per CPU core where the job runs; "
                                    "default: one per core of this machine)")
    mode: Optional[str] = _param("local: DirectRunner mode (default: the command's own; `snout run`: "
                                 f"{beam_profiles.PROFILES['local'].optional['mode']})",
                                 choices=(beam_profiles.AUTO_MODE,) + beam_profiles.DIRECT_MODES)
    # portable, flink, spark: Beam's PortableRunner and a job service.
    job_endpoint: Optional[str] = _param("portable/flink/spark: the job service, host:port; portable also "
                                         "takes `embed` (Beam's in-process job service)")
    environment_type: Optional[str] = _param("portable/flink/spark: where SDK workers run: DOCKER (the image), "
                                             "EXTERNAL (a worker pool at --beam-environment-config), PROCESS, "
                                             "LOOPBACK (SDK workers in this process)")
    environment_config: Optional[str] = _param("portable/flink/spark: EXTERNAL: the worker pool's host:port; "
                                               "DOCKER: the image (default --beam-image)")
    parallelism: Optional[int] = _param("flink: job parallelism")
    image: Optional[str] = _param("dataflow/flink/spark/portable: the SDK worker image (snout's image); "
                                  "compile-kubeflow: default --image")
    # dataflow.
    project: Optional[str] = _param("dataflow: GCP project")
    region: Optional[str] = _param("dataflow: region, e.g. europe-west1")
    temp_location: Optional[str] = _param("dataflow: gs:// temp folder (compile-kubeflow: default "
                                          "<pipeline-root>/beam-tmp)")
    staging_location: Optional[str] = _param("dataflow: gs:// staging folder")
    max_num_workers: Optional[int] = _param("dataflow: most workers autoscaling may start")
    machine_type: Optional[str] = _param("dataflow: worker machine type")
    service_account_email: Optional[str] = _param("dataflow: the workers' service account")
    network: Optional[str] = _param("dataflow: VPC network")
    subnetwork: Optional[str] = _param("dataflow: VPC subnetwork")
    # dask.
    dask_address: Optional[str] = _param("dask: the dask.distributed scheduler, host:port")
    extra_args: Tuple[str, ...] = ()

    @staticmethod
    def parameter_names() -> Tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(BeamOptions) if f.name not in ("profile", "extra_args"))

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """--beam-profile, one flag per profile parameter, and the repeatable --beam-arg."""
        group = parser.add_argument_group("Beam (where Beam jobs run; pipeline/beam_profiles.py)")
        group.add_argument("--beam-profile", default="local", choices=beam_profiles.profile_names(),
                           help="local: DirectRunner here (default); portable: PortableRunner to a job service; "
                                "dataflow, flink, spark, dask: those engines")
        for f in dataclasses.fields(BeamOptions):
            if f.name in ("profile", "extra_args"):
                continue
            kind = {"Optional[int]": int}.get(str(f.type), str)
            # SUPPRESS: not given = not in args (and no "(default: None)" in --help)
            group.add_argument(beam_profiles.flag(f.name), dest="beam_" + f.name, type=kind, default=argparse.SUPPRESS,
                               choices=f.metadata.get("choices"), help=f.metadata["help"])
        group.add_argument("--beam-arg", dest="beam_arg", action="append", default=[], metavar="--NAME=VALUE",
                           help="any other Beam pipeline option (repeatable; appended last), "
                                "e.g. --beam-arg=--max_num_workers=4")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "BeamOptions":
        extra = []
        for arg in args.beam_arg or ():  # --beam-arg "--a=1 --b=2" as well as repeats
            extra.extend(shlex.split(arg))
        params = {name: getattr(args, "beam_" + name, None) for name in cls.parameter_names()}
        return cls(profile=args.beam_profile, extra_args=tuple(extra), **params)

    def given(self) -> dict:
        return {name: getattr(self, name) for name in self.parameter_names() if getattr(self, name) is not None}

    def pipeline_args(self, command: str, **defaults) -> list:
        """The profile's Beam pipeline args for `snout <command>`. `defaults`: the command's values for
        parameters not given, applied only to those the chosen profile takes (predict: mode=in_memory)."""
        beam_profiles.check_command(self.profile, command)
        takes = beam_profiles.parameters_of(self.profile)
        params = {k: v for k, v in defaults.items() if k in takes and v is not None}
        params.update(self.given())
        return beam_profiles.beam_args(self.profile, extra_args=self.extra_args, **params)

