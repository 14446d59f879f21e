"""snout: labelled photos in, a gated and servable image classifier out (TFX 1.16).

Pins: the set verified to resolve and import together on Python 3.10 (see README,
"Versions"). Full transitive pins live in constraints.txt, applied by ./setup.sh.
"""

import sys

from setuptools import find_packages, setup

if sys.version_info[:2] != (3, 10):
    sys.exit(f"snout needs Python 3.10 (tfx 1.16 supports no newer Python); this is {sys.version.split()[0]}")

setup(
    name="snout",
    version="0.1.0",
    description="A TFX pipeline that turns a folder of labelled photos into a gated, servable image classifier",
    python_requires=">=3.10,<3.11",
    packages=find_packages(include=["cli", "report", "pipeline", "components", "trainer", "serving",
                                    "ingest", "sample_data", "contract"]),
    install_requires=[
        # tfx 1.16 is the newest whose ml-metadata/tfx-bsl the registries serve; [kfp] for
        # Kubeflow V2 compilation. It brings tensorflow 2.16.2, tf_keras 2.16,
        # tensorflow-transform 1.16, tensorflow-model-analysis 0.47.1, apache-beam 2.74.
        "tfx[kfp]==1.16.0",
        "tensorflow==2.16.2",
        "tf-keras==2.16.0",
        "tensorflow-transform==1.16.0",
        "tensorflow-model-analysis==0.47.1",
        "tensorflow-serving-api==2.16.1",
        "apache-beam==2.74.0",
        "keras-tuner==1.4.8",
        # tensorflow-hub (--backbone hub) is not pinned here: tfx 1.16 requires <0.16, which cannot
        # import under TF 2.16, so setup.sh installs 0.16.1 with --no-deps after this resolution.
        # tensorflow_transform imports dill but declares no dependency on it.
        "dill==0.4.1",
        # The edge export (components/lite_export): LiteRT's interpreter for the parity gate and
        # `snout predict --model x.tflite`; tflite-support's metadata writer (its native code needs the
        # system's libusb-1.0, which setup.sh installs). Neither moves a pin of constraints.txt.
        "ai-edge-litert==2.3.0",
        "tflite-support==0.4.4",
        "pillow>=10,<13",
        "matplotlib>=3.8,<4",
        "tqdm>=4.66,<5",
        # The data audit (components/audit/): confident learning's find_label_issues, and an
        # approximate nearest-neighbour index for near-duplicates beyond the exact search's size.
        "cleanlab==2.9.0",
        "faiss-cpu==1.15.1",
        # Beam's DaskRunner (`--beam-profile dask`, snout ingest); Beam 2.74's [dask] extra asks >=2024.4.2.
        "dask==2026.8.0",
        "distributed==2026.8.0",
    ],
    # pytest-xdist: the suite runs on two workers (tests/conftest.py groups what must share a process).
    extras_require={"test": ["pytest==9.2.0", "pytest-xdist==3.8.0"]},
    entry_points={"console_scripts": ["snout=cli.main:main"]},
)
