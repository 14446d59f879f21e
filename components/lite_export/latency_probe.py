"""Single-thread latency per image of the SavedModel's network and each TFLite file, in one fresh process.

Run by latency.py as `python -I latency_probe.py ...` (nothing of snout imported): TensorFlow's thread
pools are fixed when it starts, so one thread for the SavedModel needs a process of its own. It imports
TensorFlow and loads the SavedModel, then waits for one JSON line on stdin, {"pixels": .npy of one uint8
[H, W, 3] image, "tflite": {name: path}}, so its start overlaps the caller's conversion. Each round
times one call of every model in turn, so load changes hit all of them alike. Prints one JSON line:
{"saved_model": ms, "<variant>": ms, ..., "median": {the same}}: the fastest run of each (what a call costs
without the machine's other load; on a shared 2-core machine the median mostly measures that load), then medians.
"""

import argparse
import json
import statistics
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--saved-model", required=True)
    parser.add_argument("--function", required=True)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from ai_edge_litert.interpreter import Interpreter

    loaded = tf.saved_model.load(args.saved_model)  # kept: the function's variables live as long as it does
    function = getattr(loaded, args.function)
    request = json.loads(sys.stdin.readline())
    image = np.load(request["pixels"])[np.newaxis]
    tensor = tf.constant(image)
    calls = {"saved_model": lambda: function(tensor).numpy()}
    for name, path in request["tflite"].items():
        interpreter = Interpreter(model_path=path, num_threads=1)
        interpreter.allocate_tensors()
        index, output = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]

        def invoke(interpreter=interpreter, index=index, output=output):
            interpreter.set_tensor(index, image)
            interpreter.invoke()
            return interpreter.get_tensor(output)

        calls[name] = invoke
    times = {name: [] for name in calls}
    for round_index in range(args.runs + 2):  # two warm-up rounds
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            if round_index >= 2:
                times[name].append((time.perf_counter() - start) * 1000)
    fastest = {name: min(values) for name, values in times.items()}
    print(json.dumps(dict(fastest, median={name: statistics.median(values) for name, values in times.items()})))


if __name__ == "__main__":
    main()
