"""`snout predict --model file.tflite`: classify files or folders with a TFLite file, as an app would.

The same CSV as for a SavedModel (cli/predict_offline.py): id, label, confidence, one column per class;
class names from the file's own metadata. One image at a time in LiteRT's interpreter
(serving/lite_predict.py: decode, bilinear resize, uint8), no Beam job: it checks a phone's model.
"""

from __future__ import annotations

import os
import time

from cli.predict_offline import write_results
from contract import lite as lite_contract
from contract.errors import UserError


def is_lite(args) -> bool:
    return not (args.server or args.rest) and lite_contract.is_tflite_file(args.model)


def predict_lite(args) -> int:
    from serving import batch_predict, lite_predict

    try:
        class_names = lite_predict.labels_in(args.model)
    except ValueError as e:
        raise UserError(f"--model {args.model}: {e}") from None
    inputs, skipped = batch_predict.list_inputs([*args.input_dir, *args.files])
    if not inputs and not skipped:
        raise UserError("give images to classify: --input-dir DIR and/or FILEs")
    out = os.path.abspath(args.out)
    print(f"[snout] classifying {len(inputs)} files with {args.model} ({len(class_names)} classes, LiteRT, "
          "one image at a time)")
    start = time.time()
    try:
        predictions, refused = lite_predict.predict_files(args.model, inputs)
    except ValueError as e:  # not a TFLite model the interpreter can load
        raise UserError(f"--model {args.model}: {e}") from None
    return write_results(out, predictions, class_names, args.format, time.time() - start, [*skipped, *refused],
                         args.min_confidence)
