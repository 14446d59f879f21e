"""Single-thread latency per image: the SavedModel's network beside each TFLite file (latency_probe.py).

The probe is a fresh process, and most of its time is TensorFlow's import and the SavedModel's load.
So `LatencyProbe` starts it first: it imports and loads while the executor converts and checks parity,
and it times the models only once asked to, after the parity check (so that check's threads do not
share the CPU with the timed calls).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Dict, Optional

import numpy as np

from contract import lite as lite_contract

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "latency_probe.py")


class LatencyProbe:
    """The probe process for `model_dir`, started at construction; `measure` once, then it is gone."""

    def __init__(self, model_dir: str, runs: int, timeout_seconds: int = 300):
        self.timeout_seconds = timeout_seconds
        self._process: Optional[subprocess.Popen] = None
        if runs >= 1:
            self._process = subprocess.Popen(
                [sys.executable, "-I", PROBE, "--saved-model", model_dir, "--function", lite_contract.PIXELS_FUNCTION,
                 "--runs", str(runs)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def measure(self, tflite_files: Dict[str, str], pixels: np.ndarray) -> dict:
        """{"saved_model": ms, variant: ms, ..., "median": {...}} (the fastest of `runs` timed calls, then the
        medians), or {"error": why} if the probe could not measure."""
        if self._process is None:
            return {"error": "not measured (no timed runs asked for)"}
        with tempfile.TemporaryDirectory(prefix="snout-lite-latency-") as tmp:
            image = os.path.join(tmp, "image.npy")
            np.save(image, pixels)
            request = json.dumps({"pixels": image, "tflite": tflite_files}) + "\n"
            try:
                out, err = self._process.communicate(request, timeout=self.timeout_seconds)
            except subprocess.TimeoutExpired:
                self.close()
                return {"error": f"the latency probe took more than {self.timeout_seconds} s"}
        lines = out.strip().splitlines()
        if self._process.returncode != 0 or not lines:
            tail = " | ".join(err.strip().splitlines()[-2:])
            return {"error": f"the latency probe failed (exit {self._process.returncode}): {tail}"}
        return json.loads(lines[-1])

    def close(self) -> None:
        """Stops the probe if it still runs (the export failed before measuring)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.communicate()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
