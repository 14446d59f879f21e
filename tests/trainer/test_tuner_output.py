"""The Tuner's trial lines are plain text outside a notebook (issue 18): KerasTuner took every
process without an IPython shell for a notebook and "cleared" the output between trials with
IPython's clear_output, which printed ESC[2K and a carriage return into logs and pipes."""

import io
from contextlib import redirect_stdout

from trainer import head_search


def test_trial_lines_carry_no_terminal_redraw_codes():
    from keras_tuner.src import utils

    head_search.plain_trial_lines()
    assert utils.IS_NOTEBOOK is False
    out = io.StringIO()
    with redirect_stdout(out):
        utils.try_clear()  # what KerasTuner calls between trials
    assert "\x1b" not in out.getvalue() and "\r" not in out.getvalue()
