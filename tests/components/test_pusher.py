"""The idempotent Pusher recognises an already-served model by content, not by name or size."""

import os

from components.pusher import served_version_of


def _model(path, graph: bytes, weights: bytes):
    os.makedirs(os.path.join(path, "variables"))
    with open(os.path.join(path, "saved_model.pb"), "wb") as f:
        f.write(graph)
    with open(os.path.join(path, "variables", "variables.data-00000-of-00001"), "wb") as f:
        f.write(weights)
    return str(path)


def test_finds_the_served_copy_and_nothing_else(tmp_path):
    base = tmp_path / "serving" / "snout"
    _model(base / "100", b"graph", b"AAAA")
    _model(base / "200", b"graph", b"BBBB")  # same sizes as the candidate, other bytes
    candidate = _model(tmp_path / "candidate", b"graph", b"AAAA")
    assert served_version_of(candidate, str(base)) == "100"
    other = _model(tmp_path / "other", b"graph", b"CCCC")
    assert served_version_of(other, str(base)) is None
    assert served_version_of(candidate, str(tmp_path / "nothing_pushed_yet")) is None
