"""Memory the Embeddings step leaves behind in the pipeline's process, and the peak after it.

LocalDagRunner runs every component in one process, so what the feature pass keeps (the base, its
traced function, Transform's graph, heap pages glibc holds on to) adds to the Trainer's peak after
it. Each mode runs in a fresh child process, on the same generated records:

- `release` (the code): compute_embeddings drops the base and clears Keras' session; the heap is trimmed;
- `keep`: the same with the clearing and trimming turned off (what the first version of the step did).

After the features, the child builds the base again and runs it over the train split, as the Trainer
would, and prints RSS after the features and the process's peak RSS.

    .venv/bin/python bench/bench_embeddings_memory.py [--per-class 250] [--image-size 128] [--work DIR]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
MODES = ("keep", "release")


def _rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e9


def child(mode: str, data: str, image_size: int) -> dict:
    import contract
    from components.embeddings import compute
    from contract.audit import write_embeddings
    from pipeline.config import SnoutConfig
    from trainer import keras_compat
    from trainer.head_search import pooled_features

    keras = keras_compat.training_keras()
    if mode == "keep":
        compute.free_memory = lambda: None
        keras.backend.clear_session = lambda *a, **k: None
    settings = SnoutConfig(image_size=image_size).embeddings_settings()
    network = settings.network
    files = {s: contract.split_files(data, s) for s in contract.SPLITS}
    to_images = compute.direct_images(network.image_size, network.scaling)
    before = _rss_gb()
    with tempfile.TemporaryDirectory(prefix="embeddings-") as out:
        write_embeddings(out, compute.compute_embeddings(settings, files, to_images), settings.to_config())
    after = _rss_gb()
    pooled_features(keras, [compute.image_batches(files["train"], to_images)], network)  # the Trainer's next pass
    return {"mode": mode, "rss_before_gb": round(before, 2), "rss_after_features_gb": round(after, 2),
            "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=250)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--work", default="")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(child(args.child, args.data, args.image_size)))
        return
    from sample_data import generate

    data = os.path.join(args.work or tempfile.mkdtemp(prefix="data-embmem-"), "data")
    generate(data, args.per_class)
    os.system("uptime")
    for mode in MODES:
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--data", data, "--image-size",
                              str(args.image_size)], capture_output=True, text=True, check=True).stdout
        print([line[7:] for line in out.splitlines() if line.startswith("RESULT ")][0])


if __name__ == "__main__":
    main()
