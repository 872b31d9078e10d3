"""crmkit's error and warning classes, and the one table from C++ warning codes to them.

C++ results carry soft problems as (code, message) pairs (crmkit/core/warning.hpp); ``warn``
emits each as the Python warning class its code maps to. A code without a class is a bug that
tests/python/test_core.py catches.
"""

import warnings as _warnings
from typing import Iterable, Tuple

from . import _core

ParseError = _core.ParseError


class ConvergenceWarning(UserWarning):
    """The maximum-likelihood fit stopped before meeting its gradient tolerance."""


class SpendWarning(UserWarning):
    """The Gamma-Gamma mean spend is undefined (q <= 1): expected spend is infinite."""


class HistoryWarning(UserWarning):
    """A prediction was asked for a history no customer can have (frequency 0 with recency > 0,
    or repeat purchases with recency 0, as on lifetimes' frequency × recency grids): the
    formula's value is returned, as lifetimes does."""


class ConvergenceError(ValueError):
    """lifetimes' exception for a fit that did not converge. crmkit warns
    (:class:`ConvergenceWarning`) instead of raising; the class exists so that code written for
    lifetimes, which catches it, runs unchanged."""


class LifecycleWarning(UserWarning):
    """A soft problem of a lifecycle computation (e.g. the model's time unit could not be checked)."""


WARNING_CLASSES = {
    "not_converged": ConvergenceWarning,
    "singular_information": ConvergenceWarning,
    "undefined_mean": SpendWarning,
    "unchecked_model": LifecycleWarning,
    "at_boundary": ConvergenceWarning,
}


def warn(coded: Iterable[Tuple[str, str]], stacklevel: int = 2) -> None:
    """Emits each (code, message) of a C++ result as its code's warning class."""
    for code, message in coded:
        _warnings.warn(message, WARNING_CLASSES[code], stacklevel=stacklevel + 1)
