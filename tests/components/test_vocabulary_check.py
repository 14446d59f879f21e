"""ClassNamesCheck: a run whose class names are not the data's labels.txt (same names, same order) fails."""

import json

import pytest

from components.vocabulary_check import Executor


def _check(data_uri, class_names):
    Executor().Do({}, {}, {"data_uri": data_uri, "class_names": json.dumps(class_names)})


def test_matching_names_pass_and_others_fail_loudly(tmp_path):
    (tmp_path / "labels.txt").write_text("cat\ndog\n")
    _check(str(tmp_path), ["cat", "dog"])
    with pytest.raises(RuntimeError, match=r"class names \['dog', 'cat'\] are not the data's \['cat', 'dog'\] "
                                           r".*: the same classes in another order"):
        _check(str(tmp_path), ["dog", "cat"])
    with pytest.raises(RuntimeError, match=r"class names \['cat', 'fox'\] are not the data's .*: fox added, dog missing"):
        _check(str(tmp_path), ["cat", "fox"])
    with pytest.raises(RuntimeError, match="cannot read labels.txt"):
        _check(str(tmp_path / "elsewhere"), ["cat", "dog"])
