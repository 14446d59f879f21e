"""TF Serving warm-up records shipped inside the exported model.

TF Serving replays `assets.extra/tf_serving_warmup_requests` when it loads a version, before
it serves it: the first real request does not pay for graph initialisation, and a model that
cannot answer them fails to load. Format (TF Serving's SavedModel warm-up guide): a TFRecord
file of `tensorflow_serving.apis.PredictionLog`, at most 1000 records. Here: a Predict on real
JPEG and PNG bytes (serving_default), a Predict on a tf.Example (serving_tf_example) and a
Classify on the same tf.Example (classification). TF Serving ignores model_spec.name in
warm-up, so only the signature is named.
"""

import os
from typing import List

import numpy as np
import tensorflow as tf

import contract
from contract.saved_model import WARMUP_REQUESTS_FILE


def warmup_images() -> List[bytes]:
    """A small real picture (a colour gradient with a disc), encoded as JPEG and as PNG."""
    y, x = np.mgrid[0:64, 0:64]
    pixels = np.stack([x * 4, y * 4, 255 - x * 2], axis=-1)
    pixels[(x - 32) ** 2 + (y - 32) ** 2 < 144] = (250, 250, 250)
    image = tf.constant(pixels.astype(np.uint8))
    return [tf.io.encode_jpeg(image, quality=90).numpy(), tf.io.encode_png(image).numpy()]


def warmup_logs() -> list:
    from tensorflow_serving.apis import (classification_pb2, input_pb2, model_pb2, predict_pb2,
                                         prediction_log_pb2)

    jpeg, png = warmup_images()
    example = contract.make_example(jpeg, 0)

    def predict(signature: str, input_name: str, values: List[bytes]):
        request = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(signature_name=signature))
        request.inputs[input_name].CopyFrom(tf.make_tensor_proto(values, dtype=tf.string))
        return prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))

    classify = classification_pb2.ClassificationRequest(
        model_spec=model_pb2.ModelSpec(signature_name=contract.SIGNATURE_CLASSIFY),
        input=input_pb2.Input(example_list=input_pb2.ExampleList(examples=[example])))
    return [
        predict(contract.SIGNATURE_IMAGE_BYTES, contract.SERVING_IMAGE_INPUT, [jpeg, png]),
        predict(contract.SIGNATURE_TF_EXAMPLE, contract.SERVING_EXAMPLES_INPUT, [example.SerializeToString()]),
        prediction_log_pb2.PredictionLog(classify_log=prediction_log_pb2.ClassifyLog(request=classify)),
    ]


def write_warmup_requests(export_dir: str) -> str:
    """Writes the warm-up file into export_dir's assets.extra; returns its path."""
    path = os.path.join(export_dir, WARMUP_REQUESTS_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path) as writer:
        for log in warmup_logs():
            writer.write(log.SerializeToString())
    return path
