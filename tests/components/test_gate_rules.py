"""The gate's rules on their own: McNemar's exact p, when a drop is noise, sentences with numbers."""

import pytest

from components.evaluator import gate


def test_mcnemar_p_value_is_the_exact_binomial_tail():
    assert gate.mcnemar_p_value(0, 0) == 1.0
    assert gate.mcnemar_p_value(2, 1) == pytest.approx(0.5)          # P(X >= 2 | n=3)
    assert gate.mcnemar_p_value(5, 0) == pytest.approx(1 / 32)
    assert gate.mcnemar_p_value(0, 5) == 1.0
    assert gate.mcnemar_p_value(60, 40) == pytest.approx(0.0284, abs=5e-4)


def test_one_photo_on_a_hundred_is_noise_and_a_consistent_drop_is_not():
    # The case: 0.95 vs 0.96 on 100 test images.
    noise = gate.regression_check(0.95, 0.96, candidate_only=1, baseline_only=2, count=100,
                                  max_accuracy_drop=0.0, split="test")
    assert noise.applied and noise.passed and "within noise" in noise.sentence
    drop = gate.regression_check(0.90, 0.96, candidate_only=0, baseline_only=6, count=100,
                                 max_accuracy_drop=0.0, split="test")
    assert not drop.passed
    assert drop.numbers["p_value"] == pytest.approx(1 / 64) and drop.value == pytest.approx(0.06)
    for words in ("test accuracy 0.9000 vs baseline 0.9600", "same 100 test examples", "overall slice",
                  "a drop of 0.0600", "the baseline is right on 6 and the candidate on 0", "p = 0.0156 < 0.05"):
        assert words in drop.sentence


def test_a_drop_within_the_tolerance_passes_even_when_significant():
    check = gate.regression_check(0.90, 0.96, 0, 6, 100, max_accuracy_drop=0.1, split="test")
    assert check.passed and "within the allowed 0.1000 (--max-accuracy-drop)" in check.sentence


def test_min_accuracy_sentence_names_metric_value_threshold_and_slice():
    check = gate.min_accuracy_check(0.7, 0.8, 40, "test")
    assert not check.passed
    assert check.sentence == ("test accuracy 0.7000 on 40 test examples (overall slice) is below the minimum "
                              "0.8000 (--min-accuracy)")
    assert gate.min_accuracy_check(0.8, 0.8, 40, "test").passed


def test_class_lists_must_match_to_compare():
    assert gate.class_list_mismatch(["cat", "dog"], ["cat", "dog"]) is None
    assert "different class list than the candidate's (cat, dog added, a, b, c missing)" in gate.class_list_mismatch(
        ["a", "b", "c"], ["cat", "dog"])
    assert "no class list" in gate.class_list_mismatch(["cat", "dog"], None)


def test_one_class_list_comparison_for_every_check():
    import contract

    assert contract.class_list_difference(["a", "b"], ["a", "b"]) is None
    assert "another order" in contract.class_list_difference(["b", "a"], ["a", "b"])
    assert contract.class_list_difference(["a", "b", "owl"], ["a", "b"]) == "owl added"
    assert contract.class_list_difference(["a"], ["a", "b"]) == "b missing"
    assert contract.class_list_difference(list("abcdefg"), ["a"]) == "b, c, d, e, f and 1 more added"
    assert contract.class_list_difference(["a", "a", "b"], ["a", "b"]) == "3 names for 2 classes"


def test_a_check_states_what_became_of_it_in_words():
    from contract.evaluation import CheckState, GateCheck

    skipped = gate.skipped_regression_check("no baseline model", 0.0)
    assert skipped.state is CheckState.SKIPPED and not skipped.applied and skipped.passed  # blocks nothing
    failed = gate.uncomputed_regression_check(0.0)
    assert failed.state is CheckState.FAILED and failed.applied and not failed.passed
    assert GateCheck(name="x", state="passed", sentence="s").state is CheckState.PASSED  # as read from gate.json
