"""Loads a SavedModel the way a model server would and calls every signature once.

Run as a script in a fresh interpreter (`python -I probe.py ...`): it imports only the
standard library and TensorFlow (plus TF Serving's request protos, to replay warm-up
records), never snout or TFT, so a model that needs anything else fails here as it would
in TF Serving. Prints one JSON line: {"ok": bool, "reason": str, "calls": {...}}.
"""

import argparse
import json
import os
import sys

import tensorflow as tf

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
MAX_WARMUP_RECORDS = 1000  # TF Serving refuses to load a model with more


class ProbeFailure(Exception):
    pass


def _example(image_key, image):
    feature = {image_key: tf.train.Feature(bytes_list=tf.train.BytesList(value=[image]))}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _single_string_input(name, function):
    specs = function.structured_input_signature[1]
    if len(specs) != 1 or next(iter(specs.values())).dtype != tf.string:
        raise ProbeFailure(f"signature {name}: inputs {sorted(specs)} are not one string tensor; "
                           "no request can be built for it")
    return next(iter(specs))


def _check_outputs(name, outputs, batch):
    if not outputs:
        raise ProbeFailure(f"signature {name}: returned no outputs")
    for key, value in outputs.items():
        if value.shape.rank == 0 or value.shape[0] != batch:
            raise ProbeFailure(f"signature {name}: output {key} has shape {value.shape}, not [{batch}, ...]")
        if value.dtype.is_floating and not bool(tf.reduce_all(tf.math.is_finite(value))):
            raise ProbeFailure(f"signature {name}: output {key} is not finite")


def _summary(error):
    """The line of a TF error that says what went wrong (not "Graph execution error:" or a stack frame)."""
    lines = [line for line in str(error).splitlines() if line.strip() and not line[0].isspace()]
    useful = [line for line in lines if not line.startswith(("Graph execution error", "Detected at node", "<"))]
    return (useful or lines or [""])[0][:300]


def _call(name, function, inputs, batch):
    try:
        outputs = function(**inputs)
    except Exception as e:  # noqa: BLE001 - any error is the model's failure to serve
        raise ProbeFailure(f"signature {name} raised {type(e).__name__}: {_summary(e)}")
    _check_outputs(name, outputs, batch)
    return {key: list(value.shape) for key, value in outputs.items()}


def call_every_signature(model, images, image_key, image_input):
    """Raw image bytes to the signature that takes them, tf.Examples to every other one."""
    examples = [_example(image_key, image) for image in images]
    calls = {}
    for name, function in model.signatures.items():
        key = _single_string_input(name, function)
        batch = tf.constant(images if key == image_input else examples)
        calls[name] = _call(name, function, {key: batch}, len(images))
    return calls


def replay_warmup(model, model_dir):
    """Each warm-up record sent as TF Serving sends it at load time; the count of records replayed."""
    path = os.path.join(model_dir, WARMUP_FILE)
    if not tf.io.gfile.exists(path):
        return 0
    from tensorflow_serving.apis import prediction_log_pb2

    records = list(tf.data.TFRecordDataset(path).as_numpy_iterator())
    if not 0 < len(records) <= MAX_WARMUP_RECORDS:
        raise ProbeFailure(f"{WARMUP_FILE} holds {len(records)} records; TF Serving needs 1..{MAX_WARMUP_RECORDS}")
    for record in records:
        log = prediction_log_pb2.PredictionLog.FromString(record)
        kind = log.WhichOneof("log_type")
        request = getattr(log, kind).request
        name = request.model_spec.signature_name or "serving_default"
        if name not in model.signatures:
            raise ProbeFailure(f"warm-up {kind} asks for signature {name}, which the model does not have")
        function = model.signatures[name]
        if kind == "predict_log":
            inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
        elif kind in ("classify_log", "regress_log"):
            examples = [e.SerializeToString() for e in request.input.example_list.examples]
            inputs = {_single_string_input(name, function): tf.constant(examples)}
        else:
            raise ProbeFailure(f"warm-up record of kind {kind}: TF Serving replays only predict/classify/regress")
        batch = int(next(iter(inputs.values())).shape[0])
        _call(f"{name} (warm-up {kind})", function, inputs, batch)
    return len(records)


def probe(model_dir, images_file, image_key, image_input, required):
    try:
        model = tf.saved_model.load(model_dir, tags=["serve"])
    except Exception as e:  # noqa: BLE001
        raise ProbeFailure(f"the SavedModel does not load: {type(e).__name__}: {_summary(e)}")
    missing = sorted(set(required) - set(model.signatures))
    if missing:
        raise ProbeFailure(f"signatures {missing} are missing (the model has {sorted(model.signatures)})")
    images = list(tf.data.TFRecordDataset(images_file).as_numpy_iterator())
    calls = call_every_signature(model, images, image_key, image_input)
    return calls, replay_warmup(model, model_dir)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="SavedModel directory")
    parser.add_argument("--images", required=True, help="TFRecord file of encoded images, one per record")
    parser.add_argument("--image-key", required=True, help="the image feature of a tf.Example")
    parser.add_argument("--image-input", required=True, help="the input name of the raw-bytes signature")
    parser.add_argument("--require", default="", help="comma-separated signatures the model must have")
    args = parser.parse_args(argv)
    try:
        calls, warmups = probe(args.model, args.images, args.image_key, args.image_input,
                               [s for s in args.require.split(",") if s])
        result = {"ok": True, "reason": f"{len(calls)} signatures answered; {warmups} warm-up requests replayed",
                  "calls": calls, "warmup_requests": warmups}
    except ProbeFailure as e:
        result = {"ok": False, "reason": str(e)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
