"""Shared helpers of crmkit.segment: input conversion, seeds and the module's warning class."""

import numbers

import numpy as np
import pandas as pd

__all__ = ["SegmentationWarning"]


class SegmentationWarning(UserWarning):
    """A soft problem in segmentation: a k-means fit that did not converge or found fewer
    distinct clusters than asked for, RFM bins merged by ties, rules that leave customers
    unmatched."""


def as_samples(X, name="X"):
    """``X`` as a C-ordered float64 2-d array, and its column names (None without names)."""
    columns = None
    if isinstance(X, pd.DataFrame):
        columns = np.asarray(X.columns, dtype=object)
        if not all(isinstance(c, str) for c in columns):
            columns = None
    try:
        array = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if array.ndim == 1:
        raise ValueError(
            f"{name} must be 2-d (samples x features); got a 1-d array of {array.shape[0]} "
            "values. Use X.reshape(-1, 1) for a single feature.")
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-d (samples x features); got {array.ndim} dimensions")
    return array, columns


def as_weights(sample_weight, n, name="sample_weight"):
    """None, or a float64 vector of length n."""
    if sample_weight is None:
        return None
    weights = np.ascontiguousarray(np.asarray(sample_weight, dtype=np.float64))
    if weights.ndim != 1 or weights.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) to match the samples; got {weights.shape}")
    return weights


def as_seed(random_state, name="random_state"):
    """A 64-bit seed from None (fresh entropy), an int, or a numpy RandomState/Generator."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0])
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**63 - 1, dtype=np.int64))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0 or random_state >= 2**64:
            raise ValueError(f"{name} = {random_state} must be in [0, 2**64)")
        return int(random_state)
    raise ValueError(
        f"{name} = {random_state!r} must be None, an int, or a numpy RandomState/Generator")


def positive_int(value, name, minimum=1):
    """``value`` as an int >= minimum, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} = {value!r} must be an integer >= {minimum}")
    return int(value)
