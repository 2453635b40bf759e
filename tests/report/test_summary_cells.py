"""The summary table's cells: correct digits only, truncated (never rounded) to fit."""

from verify.report.document import _breakable_tt, _leading_digits


def test_leading_digits_truncates_correct_digits():
    assert _leading_digits("0.75") == "0.75"
    # truncation keeps only digits of the given (correct) decimal: no rounding up
    assert _leading_digits("0.746416279918967775000962991843188") == r"0.746416279918\ldots"
    assert _leading_digits("1.2345678901234567e-30") == r"1.234567890123\ldots\times 10^{-30}"


def test_typewriter_names_may_break_at_hyphens_and_plus():
    tex = _breakable_tt("control-x+y")
    assert tex == r"\texttt{control-\allowbreak{}x+\allowbreak{}y}"
    assert _breakable_tt("a_b") == r"\texttt{a\_b}"
