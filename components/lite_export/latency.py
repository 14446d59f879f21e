"""Single-thread latency per image: the SavedModel's network beside each TFLite file (latency_probe.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Dict

import numpy as np

from contract import lite as lite_contract

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "latency_probe.py")


def single_thread_latency(model_dir: str, tflite_files: Dict[str, str], pixels: np.ndarray, runs: int,
                          timeout_seconds: int = 300) -> dict:
    """{"saved_model": ms, variant: ms, ..., "median": {...}} (the fastest of `runs` timed calls, then the
    medians), or {"error": why} if the probe could not measure."""
    if runs < 1:
        return {"error": "not measured (no timed runs asked for)"}
    with tempfile.TemporaryDirectory(prefix="snout-lite-latency-") as tmp:
        image = os.path.join(tmp, "image.npy")
        np.save(image, pixels)
        command = [sys.executable, "-I", PROBE, "--saved-model", model_dir, "--function",
                   lite_contract.PIXELS_FUNCTION, "--pixels", image, "--runs", str(runs)]
        command += [f"--tflite={name}={path}" for name, path in tflite_files.items()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            return {"error": f"the latency probe took more than {timeout_seconds} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = " | ".join(done.stderr.strip().splitlines()[-2:])
        return {"error": f"the latency probe failed (exit {done.returncode}): {tail}"}
    return json.loads(lines[-1])
