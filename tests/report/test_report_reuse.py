"""report/reuse.py: an unchanged run's model run and figures are reused, anything changed is redone."""

import os

import numpy as np

from report import reuse


def test_a_figure_is_drawn_once_per_distinct_input(tmp_path):
    cache, drawn = str(tmp_path / ".cache"), []

    def draw(tag):
        drawn.append(tag)
        return f"png {tag}".encode()

    matrix = np.array([[5, 1], [0, 6]])
    assert reuse.figure(cache, "confusion.png", lambda: draw("a"), matrix, ["cat", "dog"]) == b"png a"
    assert reuse.figure(cache, "confusion.png", lambda: draw("b"), matrix.copy(), ["cat", "dog"]) == b"png a"
    assert reuse.figure(cache, "confusion.png", lambda: draw("c"), matrix + 1, ["cat", "dog"]) == b"png c"
    assert drawn == ["a", "c"]
    assert os.listdir(cache) == [f for f in os.listdir(cache) if f.startswith("confusion-")]  # one kept
    assert len(os.listdir(cache)) == 1
    assert reuse.figure(None, "curves.png", lambda: draw("d")) == b"png d"  # no cache: always drawn


def test_stored_predictions_come_back_bit_for_bit(tmp_path):
    probabilities = np.random.default_rng(0).random((3, 4)).astype(np.float32)
    runs = []

    def run():
        runs.append(1)
        return {"images": [b"\xff\xd8jpeg", b"\x89PNG", b""], "labels": [0, 3, 1],
                "probabilities": probabilities.tolist(), "dtype": str(probabilities.dtype)}

    first = reuse.predictions(str(tmp_path), "k1", run)
    again = reuse.predictions(str(tmp_path), "k1", run)
    assert len(runs) == 1 and again == first
    assert again["images"] == [b"\xff\xd8jpeg", b"\x89PNG", b""]
    restored = np.array(again["probabilities"], dtype=again["dtype"])
    assert restored.dtype == np.float32 and np.array_equal(restored, probabilities)


def test_a_rewritten_model_file_changes_the_key(tmp_path):
    model = tmp_path / "model"
    (model / "variables").mkdir(parents=True)
    (model / "saved_model.pb").write_bytes(b"graph")
    (model / "variables" / "variables.index").write_bytes(b"index")
    before = reuse.key_of(reuse.model_identity(str(model)))
    assert reuse.key_of(reuse.model_identity(str(model))) == before
    (model / "variables" / "variables.index").write_bytes(b"other")
    os.utime(model / "variables" / "variables.index", ns=(1, 1))
    assert reuse.key_of(reuse.model_identity(str(model))) != before
