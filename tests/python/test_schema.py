"""The schema-first boundary: errors, warning codes, option classes and result dicts generated
from the C++ descriptions (crmkit/core/describe.hpp), and the checked-in stubs."""

import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

import crmkit
from crmkit import _core

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_parse_error_carries_file_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("customer_id,date,amount\n1,1997-01-01,10\n2,1997-01-02,abc\n")
    with pytest.raises(crmkit.ParseError) as error_info:
        crmkit.read_transactions(path, monetary_value_col="amount")
    error = error_info.value
    assert isinstance(error, ValueError)
    # Row 3, the amount's first character is the 14th of "2,1997-01-02,abc" (1-based).
    assert (error.file, error.line, error.column) == (str(path), 3, 14)
    assert str(error).startswith(f"{path}:3:14: column 'amount'")


def test_invalid_input_is_a_value_error_naming_the_argument():
    with pytest.raises(ValueError, match=r"^ties: 'avrage_rank' is not one of .*did you mean 'average_rank'"):
        _core.segment.score_rfm(np.ones(3), np.ones(3), np.ones(3), ties="avrage_rank")


def test_every_warning_code_has_one_python_class():
    from crmkit._warnings import WARNING_CLASSES

    assert set(_core.WARNING_CODES) == set(WARNING_CLASSES)
    assert all(issubclass(cls, UserWarning) for cls in WARNING_CLASSES.values())


def test_a_fit_that_stops_early_warns_by_its_code_not_its_text():
    rng = np.random.default_rng(3)
    frequency = rng.integers(0, 5, 200).astype(float)
    recency = frequency * 3.0
    T = recency + 10.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        crmkit.BetaGeoFitter().fit(frequency, recency, T, maxiter=1)
    assert any(issubclass(w.category, crmkit.ConvergenceWarning) for w in caught)


def test_option_classes_are_generated_from_the_field_lists():
    options = _core.clv.FitOptions(tolerance=1e-6, max_iterations=20)
    assert (options.tolerance, options.max_iterations, options.penalizer_coef) == (1e-6, 20, 0.0)
    assert [name for name, _, _ in _core.clv.FitOptions.__fields__][:3] == [
        "penalizer_coef", "tolerance", "max_iterations"]
    assert options == _core.clv.FitOptions(max_iterations=20, tolerance=1e-6)
    assert "max_iterations=20" in repr(options)
    with pytest.raises(ValueError, match="no option 'max_iteration' .*did you mean 'max_iterations'"):
        _core.clv.FitOptions(max_iteration=3)
    rules = _core.lifecycle.StageRules(freq="W")
    assert rules.freq == "W"
    with pytest.raises(ValueError, match="freq"):
        rules.freq = "fortnight"


def test_result_dicts_have_exactly_the_described_fields():
    schema = _core.data.__schema__["CustomerSummary"]
    result = _core.data.summarize(np.array([1, 1, 2]), np.array([0, 86400, 0]), np.array([1.0, 2.0, 3.0]))
    assert list(result) == [name for name, _, _ in schema]
    np.testing.assert_array_equal(result["frequency"], [1.0, 0.0])


def test_transaction_model_parameters_come_from_their_description():
    assert [name for name, _, _ in _core.clv.BgNbdParams.__fields__] == list(crmkit.BetaGeoFitter._param_names)
    assert [name for name, _, _ in _core.clv.GammaGammaParams.__fields__] == list(crmkit.GammaGammaFitter._param_names)


def test_checked_in_stubs_match_the_module():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "stubgen.py"), "--check",
                             "--output", str(ROOT / "python" / "crmkit" / "_core.pyi")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
