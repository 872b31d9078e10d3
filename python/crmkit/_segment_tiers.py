"""Value tiers (ABC / high-medium-low) and feature preparation with cluster profiles."""

import warnings

import numpy as np
import pandas as pd

from . import _core
from ._segment_common import SegmentationWarning, as_samples

__all__ = ["FeatureScaler", "cluster_profile", "value_tiers"]

_DEFAULT_CUTS = {"value": (0.8, 0.95), "population": (0.2, 0.5)}


def value_tiers(data, column=None, *, by="value", cuts=None, labels=None):
    """ABC / high-medium-low tiers over any non-negative value (spend, predicted CLV...).

    Customers are ranked by value, highest first, and cut at cumulative fractions:

    - ``by="value"`` (default cuts 0.8, 0.95): a customer joins the first tier whose cut
      exceeds the share of total value held by the customers ranked above them (the classic
      ABC split: A holds at least 80 % of the value);
    - ``by="population"`` (default cuts 0.2, 0.5: 20 / 30 / 50 % of customers): by the share of
      customers ranked above them.

    Customers with equal value always share a tier.

    Parameters
    ----------
    data : pandas.Series, array-like, or pandas.DataFrame
        The values, or a DataFrame holding them in ``column``.
    column : str, optional
        Column of ``data`` when it is a DataFrame.
    by : {"value", "population"}
    cuts : sequence of float, optional
        Strictly increasing cumulative fractions in (0, 1).
    labels : sequence of str, optional
        Tier names, top first; default "A", "B", "C" for three tiers ("tier 1", ... otherwise).
        ``("high", "medium", "low")`` gives the other common naming.

    Returns
    -------
    pandas.DataFrame
        Indexed like the input: ``value`` and ``tier`` (ordered categorical, top first).
        ``attrs["summary"]`` has, per tier, customers, their share, the value share and the
        lowest value.
    """
    if isinstance(data, pd.DataFrame):
        if column is None or column not in data.columns:
            raise ValueError(f"column = {column!r} must name a column of data")
        series = data[column]
    elif isinstance(data, pd.Series):
        series = data
    else:
        series = pd.Series(np.asarray(data, dtype=np.float64))
    cuts, labels = _tier_options(by, cuts, labels)
    values = np.ascontiguousarray(series.to_numpy(dtype=np.float64))
    found = _core.segment.value_tiers(values, cuts, by)
    result = pd.DataFrame({"value": values}, index=series.index)
    result["tier"] = pd.Categorical.from_codes(found["tiers"], categories=labels, ordered=True)
    result.attrs["summary"] = _tier_summary(found, labels)
    return result


def _tier_options(by, cuts, labels):
    """The checked cuts (float64 array) and tier labels of `value_tiers` (also crmkit.dask)."""
    if by not in _DEFAULT_CUTS:
        raise ValueError(f"by = {by!r} must be 'value' or 'population'")
    cuts = _DEFAULT_CUTS[by] if cuts is None else tuple(cuts)
    tiers = len(cuts) + 1
    if labels is None:
        labels = ("A", "B", "C") if tiers == 3 else tuple(f"tier {i + 1}" for i in range(tiers))
    labels = tuple(str(label) for label in labels)
    if len(labels) != tiers or len(set(labels)) != tiers:
        raise ValueError(f"labels must be {tiers} distinct names (one per tier); got {labels}")
    return np.asarray(cuts, dtype=np.float64), labels


def _tier_summary(found, labels):
    """Per tier: customers, their share, the value share and the lowest value."""
    counts = np.asarray(found["counts"])
    return pd.DataFrame(
        {"customers": counts, "customer_share": counts / counts.sum(),
         "value_share": found["value_shares"], "lowest_value": found["lowest_values"]},
        index=pd.Index(labels, name="tier"))


def _column_flags(log1p, columns, width):
    if log1p is None or log1p is False:
        return [0] * width
    if log1p is True:
        return [1] * width
    flags = [0] * width
    for item in log1p:
        if isinstance(item, str):
            if columns is None or item not in list(columns):
                raise ValueError(f"log1p names column {item!r}, which X does not have")
            flags[list(columns).index(item)] = 1
        else:
            if not 0 <= int(item) < width:
                raise ValueError(f"log1p column index {item} is outside 0..{width - 1}")
            flags[int(item)] = 1
    return flags


class FeatureScaler:
    """log1p of skewed columns, then standard or robust scaling, with an exact inverse.

    The usual recipe before k-means on RFM-like features ("unskew, then standardise"); its
    :meth:`inverse_transform` turns cluster centres back into days, purchases and money.

    Parameters
    ----------
    method : {"standard", "robust", "none"}, default "standard"
        Centre and scale by mean and population standard deviation (scikit-learn's
        StandardScaler), by median and interquartile range (RobustScaler), or not at all.
    log1p : None, True, or sequence of column names / indices
        Columns to transform with log1p first (values must be > -1).

    Attributes
    ----------
    center_, scale_ : ndarray
    constant_columns_ : list of int
        Columns without spread; they get scale 1 (a warning says so).

    Warns
    -----
    SegmentationWarning
        When a column is constant.
    """

    def __init__(self, method="standard", log1p=None):
        self.method = method
        self.log1p = log1p

    def fit(self, X, y=None):
        """Fit centres and scales; returns self."""
        x, columns = as_samples(X)
        self._columns = columns if columns is not None else (
            X.columns if isinstance(X, pd.DataFrame) else None)
        flags = _column_flags(self.log1p, self._columns, x.shape[1])
        self._core = _core.segment.fit_feature_scaler(x, self.method, flags)
        self.center_ = self._core.center
        self.scale_ = self._core.scale
        self.constant_columns_ = list(self._core.constant_columns)
        self.n_features_in_ = x.shape[1]
        if self.constant_columns_:
            warnings.warn(f"columns {self.constant_columns_} are constant; they are centred and "
                          "left unscaled (scale 1)", SegmentationWarning, stacklevel=2)
        return self

    def _wrap(self, values, X):
        if isinstance(X, pd.DataFrame):
            return pd.DataFrame(values, index=X.index, columns=X.columns)
        return values

    def transform(self, X):
        """Scaled features, a DataFrame for a DataFrame input."""
        if not hasattr(self, "_core"):
            raise ValueError("This FeatureScaler is not fitted yet; call fit first.")
        x, _ = as_samples(X)
        return self._wrap(self._core.transform(x), X)

    def fit_transform(self, X, y=None):
        """Fit, then transform."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Y):
        """Original units back from scaled features (or cluster centres)."""
        if not hasattr(self, "_core"):
            raise ValueError("This FeatureScaler is not fitted yet; call fit first.")
        y, _ = as_samples(Y, "Y")
        values = self._core.inverse_transform(y)
        if isinstance(Y, pd.DataFrame):
            return pd.DataFrame(values, index=Y.index, columns=Y.columns)
        if self._columns is not None:
            return pd.DataFrame(values, columns=self._columns)
        return values


def cluster_profile(X, labels):
    """Per cluster: size, share, and the mean and median of every feature.

    Pass the features in their original units (not the scaled ones) to read the profile in
    days, purchases and money.

    Parameters
    ----------
    X : array-like or pandas.DataFrame of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)

    Returns
    -------
    pandas.DataFrame
        Indexed by cluster label: size, share, then ``<feature>_mean`` and
        ``<feature>_median`` for each feature.
    """
    x, _ = as_samples(X)
    names = list(X.columns) if isinstance(X, pd.DataFrame) else [
        f"x{j}" for j in range(x.shape[1])]
    values = np.asarray(labels)
    if values.ndim != 1 or values.shape[0] != x.shape[0]:
        raise ValueError(f"labels must have shape ({x.shape[0]},) to match X; got {values.shape}")
    clusters, codes = np.unique(values, return_inverse=True)
    found = _core.segment.profile_clusters(x, np.ascontiguousarray(codes, dtype=np.int32),
                                           len(clusters))
    table = pd.DataFrame({"size": found["sizes"], "share": found["shares"]},
                         index=pd.Index(clusters, name="cluster"))
    for j, name in enumerate(names):
        table[f"{name}_mean"] = found["means"][:, j]
        table[f"{name}_median"] = found["medians"][:, j]
    return table
