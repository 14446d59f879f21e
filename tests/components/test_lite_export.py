"""The edge export on a small trained colour classifier (seconds, offline): both TFLite files take uint8
pixels and agree with the SavedModel, their metadata reads back with the labels (and TFLite's Task Library
classifies with them), a broken int8 calibration is refused while the SavedModel is still pushed, and a
rerun pushes no duplicate."""

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import trainer.keras_compat  # noqa: F401

import contract
from contract import lite as lite_contract
from components.lite_export.executor import export_lite_models
from components.lite_export.metadata import read_metadata
from components.lite_export.settings import LiteSettings
from serving.lite_predict import LiteClassifier, labels_in
from tests.fixtures.lite import CLASSES, SIZE, exported_colour_model, records

# No latency probe here (a fresh TensorFlow process, seconds): the shared end-to-end run measures it.
SETTINGS = LiteSettings(latency_runs=0)


@pytest.fixture(scope="module")
def colour(tmp_path_factory):
    root = tmp_path_factory.mktemp("lite")
    train, test = records(120, seed=1), records(40, seed=2)
    model_uri = str(root / "model")  # a Model artifact's folder: TFX's serving model under Format-Serving
    exported_colour_model(os.path.join(model_uri, "Format-Serving"), train)
    return SimpleNamespace(root=root, train=train, test=test, model_uri=model_uri,
                           model_dir=os.path.join(model_uri, "Format-Serving"))


@pytest.fixture(scope="module")
def good(colour):
    out = str(colour.root / "lite_good")
    return out, export_lite_models(colour.model_dir, colour.train, colour.test, SETTINGS, out)


def test_both_files_take_uint8_pixels_and_agree_with_the_saved_model(good):
    out, result = good
    assert sorted(os.listdir(out)) == sorted([*lite_contract.VARIANT_FILES.values(), contract.VOCABULARY_FILE,
                                              lite_contract.PARITY_FILE])
    with open(os.path.join(out, lite_contract.PARITY_FILE)) as f:
        assert json.load(f) == result
    assert result["saved_model"]["accuracy"] >= 0.95 and result["example_count"] == 40
    for variant, name in lite_contract.VARIANT_FILES.items():
        classifier = LiteClassifier(os.path.join(out, name))
        given = classifier.interpreter.get_input_details()[0]
        assert given["dtype"] == np.uint8 and list(given["shape"]) == [1, SIZE, SIZE, 3]
        assert classifier.interpreter.get_output_details()[0]["dtype"] == np.float32
        numbers = result["variants"][variant]
        assert numbers["passed"], numbers["sentence"]
        assert numbers["agreement"] >= 0.95 and numbers["accuracy"] >= 0.95
    assert result["latency_error"] == "not measured (no timed runs asked for)"
    assert result["calibration"]["images"] == 120  # fewer train images than the 200 asked for: all of them
    # Full integer: besides the uint8 input and the dequantized output, no float tensor but the input's cast.
    int8 = LiteClassifier(os.path.join(out, lite_contract.INT8_FILE)).interpreter.get_tensor_details()
    assert sum(t["dtype"] == np.float32 for t in int8) <= 2
    assert sum(t["dtype"] == np.int8 for t in int8) >= 5


def test_metadata_reads_back_with_its_labels(good):
    out, _ = good
    for name in lite_contract.VARIANT_FILES.values():
        path = os.path.join(out, name)
        with open(path, "rb") as f:
            read = read_metadata(f.read())
        assert read["labels"] == CLASSES
        image = read["metadata"]["subgraph_metadata"][0]["input_tensor_metadata"][0]
        assert image["content"]["content_properties"]["color_space"] == "RGB"
        assert image["process_units"][0]["options"] == {"mean": [0.0], "std": [1.0]}  # pixels as they are
        assert "x / 255" in image["description"]  # the scaling the graph does itself
        output = read["metadata"]["subgraph_metadata"][0]["output_tensor_metadata"][0]
        assert output["associated_files"][0]["type"] == "TENSOR_AXIS_LABELS"
        assert labels_in(path) == CLASSES  # the reader `snout predict` uses


_TASK_LIBRARY = """
import sys
sys.modules["tensorflow"] = None  # the Task Library's pybind11 types clash with TensorFlow's in one process
from tflite_support.task import core, processor, vision
for path, image in zip(sys.argv[1::2], sys.argv[2::2]):
    options = vision.ImageClassifierOptions(base_options=core.BaseOptions(file_name=path, num_threads=1),
                                            classification_options=processor.ClassificationOptions(max_results=1))
    top = vision.ImageClassifier.create_from_options(options).classify(vision.TensorImage.create_from_file(image))
    print(top.classifications[0].categories[0].category_name)
"""


def test_tflite_task_library_image_classifier_loads_them_without_extra_code(good, tmp_path):
    """The C++ ImageClassifier of TFLite's Task Library (the Android/iOS API), from tflite-support 0.4.4:
    it reads the input spec, normalization and labels from the metadata, resizes and classifies."""
    out, _ = good
    rng = np.random.default_rng(5)
    from tests.fixtures.lite import colour_png

    args = []
    for label in (0, 1, 1, 0):
        image = tmp_path / f"{len(args)}_{CLASSES[label]}.png"
        image.write_bytes(colour_png(label, rng))
        for name in lite_contract.VARIANT_FILES.values():
            args += [os.path.join(out, name), str(image)]
    done = subprocess.run([sys.executable, "-c", _TASK_LIBRARY, *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0 and "ImportError" in done.stderr:
        pytest.skip(f"TFLite's Task Library does not load here: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr[-2000:]
    expected = [CLASSES[label] for label in (0, 1, 1, 0) for _ in lite_contract.VARIANT_FILES]
    assert done.stdout.split() == expected


def _saved_model_push(colour, serving_base: str, record_uri: str):
    """TFX's Pusher (snout's idempotent one) on the blessed colour model: what the DAG's Pusher does."""
    from tfx.proto import pusher_pb2
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils

    from components.pusher import IdempotentPusherExecutor

    model, blessing, infra = (standard_artifacts.Model(), standard_artifacts.ModelBlessing(),
                              standard_artifacts.InfraBlessing())
    model.uri, blessing.uri, infra.uri = colour.model_uri, record_uri + "_blessing", record_uri + "_infra"
    blessing.set_int_custom_property("blessed", 1)
    infra.set_int_custom_property("blessed", 1)
    pushed = standard_artifacts.PushedModel()
    pushed.uri = record_uri
    destination = pusher_pb2.PushDestination(filesystem=pusher_pb2.PushDestination.Filesystem(
        base_directory=serving_base))
    IdempotentPusherExecutor().Do({"model": [model], "model_blessing": [blessing], "infra_blessing": [infra]},
                                  {"pushed_model": [pushed]},
                                  {"push_destination": proto_utils.proto_to_json(destination), "custom_config": None})
    return pushed


def _lite_push(pushed, lite_uri: str, lite_base: str, record_uri: str):
    from components.lite_export import push
    from components.lite_export.component import LiteModel, LitePushedModel

    lite_model, record = LiteModel(), LitePushedModel()
    lite_model.uri, record.uri = lite_uri, record_uri
    push.Executor().Do({"pushed_model": [pushed], "lite_model": [lite_model]}, {"lite_push": [record]},
                       {push.BASE_DIRECTORY_KEY: lite_base})
    return record


def test_broken_int8_calibration_is_refused_the_saved_model_still_pushed_and_a_rerun_adds_nothing(colour, tmp_path):
    black_train = records(60, seed=3, black=True)  # the int8 model's activation ranges learnt on black images
    lite_uri = str(tmp_path / "lite_black")
    result = export_lite_models(colour.model_dir, black_train, colour.test, SETTINGS, lite_uri)
    int8, float_variant = result["variants"]["int8"], result["variants"]["float"]
    assert float_variant["passed"], float_variant["sentence"]
    assert not int8["passed"]
    assert int8["drop"] > SETTINGS.max_accuracy_drop and int8["p_value"] < SETTINGS.alpha
    assert int8["sentence"].startswith(f"{lite_contract.INT8_FILE} was not pushed: test accuracy {int8['accuracy']:.4f} "
                                       f"vs the SavedModel's ")
    assert "(--max-lite-accuracy-drop)" in int8["sentence"] and int8["sentence"].count(".") >= 3  # numbers, one sentence

    serving_base = str(tmp_path / "serving" / "colour")
    lite_base = lite_contract.lite_base_dir(serving_base)
    pushed = _saved_model_push(colour, serving_base, str(tmp_path / "push1"))
    version = pushed.get_string_custom_property("pushed_version")
    assert pushed.get_int_custom_property("pushed") == 1
    assert os.path.isfile(os.path.join(serving_base, version, "saved_model.pb"))  # the SavedModel went out
    record = _lite_push(pushed, lite_uri, lite_base, str(tmp_path / "lite_push1"))
    assert record.get_int_custom_property("pushed") == 1
    assert record.get_string_custom_property("pushed_version") == version  # the SavedModel's version
    assert sorted(os.listdir(os.path.join(lite_base, version))) == sorted(
        [lite_contract.FLOAT_FILE, contract.VOCABULARY_FILE, lite_contract.PARITY_FILE])  # no int8 file

    # A rerun: the model is already served as the same version; neither push writes a new folder.
    again = _saved_model_push(colour, serving_base, str(tmp_path / "push2"))
    assert again.get_int_custom_property("already_served") == 1
    again_record = _lite_push(again, lite_uri, lite_base, str(tmp_path / "lite_push2"))
    assert again_record.get_int_custom_property(lite_contract.PUSH_UNCHANGED_KEY) == 1
    assert os.listdir(serving_base) == [version] and os.listdir(lite_base) == [version]


def test_nothing_is_pushed_beside_a_saved_model_that_was_not_pushed(good, tmp_path):
    from tfx.types import standard_artifacts

    not_pushed = standard_artifacts.PushedModel()
    not_pushed.uri = str(tmp_path / "push")
    not_pushed.set_int_custom_property("pushed", 0)
    record = _lite_push(not_pushed, good[0], str(tmp_path / "lite"), str(tmp_path / "lite_push"))
    assert record.get_int_custom_property("pushed") == 0
    assert "SavedModel was not pushed" in record.get_string_custom_property(lite_contract.PUSH_REASON_KEY)
    assert not os.path.exists(tmp_path / "lite")


def test_snout_predict_on_either_tflite_file_writes_the_saved_models_csv(good, tmp_path):
    import csv

    from cli.main import main
    from tests.fixtures.lite import colour_png

    rng = np.random.default_rng(9)
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, label in enumerate((1, 0, 1)):
        (photos / f"p{i}_{CLASSES[label]}.png").write_bytes(colour_png(label, rng))
    (photos / "notes.png").write_bytes(b"not an image")
    for name in lite_contract.VARIANT_FILES.values():
        out = tmp_path / f"{name}.csv"
        assert main(["predict", "--model", os.path.join(good[0], name), "--input-dir", str(photos),
                     "--out", str(out)]) == 1  # one file skipped, with its reason beside the CSV
        with open(out) as f:
            rows = list(csv.reader(f))
        assert rows[0] == ["id", "label", "confidence", *CLASSES]
        assert [(r[0], r[1]) for r in rows[1:]] == [("p0_red", "red"), ("p1_blue", "blue"), ("p2_red", "red")]
        assert "notes.png\tnot an image" in (tmp_path / f"{name}-skipped.tsv").read_text()


def test_a_failed_export_is_recorded_and_pushes_nothing_instead_of_failing_the_run(tmp_path):
    from tfx.types import standard_artifacts

    from components.lite_export.component import LiteModel
    from components.lite_export.executor import SETTINGS_KEY, Executor
    from tests.fixtures.lite import examples_artifact

    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "model")  # no SavedModel in it: as if the export could not be read
    (tmp_path / "model" / "Format-Serving").mkdir(parents=True)
    data = examples_artifact(str(tmp_path / "examples"), {"train": records(4, 1), "test": records(4, 2)})
    lite_model = LiteModel()
    lite_model.uri = str(tmp_path / "lite")
    Executor().Do({"model": [model], "examples": [data]}, {"lite_model": [lite_model]},
                  {SETTINGS_KEY: json.dumps(SETTINGS.to_config())})
    assert lite_model.get_int_custom_property("int8_passed") == 0
    with open(tmp_path / "lite" / lite_contract.PARITY_FILE) as f:
        assert json.load(f)["error"].startswith("the edge export failed: ")
    pushed = standard_artifacts.PushedModel()
    pushed.set_int_custom_property("pushed", 1)
    pushed.set_string_custom_property("pushed_version", "5")
    record = _lite_push(pushed, lite_model.uri, str(tmp_path / "serving-lite"), str(tmp_path / "record"))
    assert record.get_int_custom_property("pushed") == 0
    assert record.get_string_custom_property(lite_contract.PUSH_REASON_KEY).startswith("the edge export failed: ")
    assert not os.path.exists(tmp_path / "serving-lite")
