"""The survey tables of ``crmkit report --scheduler ... --survey ANSWERS``: the single-machine
report's NPS and CSAT tables of answers read on the workers (one partition per file).

Each partition of the answers is joined on the workers, by customer id, with the cluster's
customer table (the columns the tables group by: ``_core.pipeline.SURVEY_GROUPINGS``) and
tallied into the pipeline's mergeable survey accumulators (``_core.pipeline.tally_survey``:
integer counts and exact sums, crmkit/survey/aggregate.hpp); the partitions' states are merged
by a tree reduction (``merge_survey_cells``) and the driver makes the tables and notes with the
pipeline's own step (``_core.pipeline.survey_tables``), which the single-machine report runs on
the states of all its answers. So the tables, their labels, months, ``is_empty`` flags,
intervals and the notes (answers from customers not in the log, small cells) are the
single-machine ones, bit for bit.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pandas as pd

#: The survey tables the pipeline may write, in its order (crmkit/pipeline/result.hpp).
SURVEY_TABLES = ("nps_by_segment", "nps_by_rfm_segment", "nps_by_value_tier", "nps_by_stage",
                 "csat_by_segment", "csat_by_rfm_segment", "nps_by_month", "csat_by_month",
                 "nps_overall")
_POSITION = "_answer"
_IN_LOG = "_in_log"


def _survey_file(path: str, id_dtype: Any, columns: tuple) -> pd.DataFrame:
    from ._report_input import load_survey

    return load_survey(path, pd.Series([], dtype=id_dtype), *columns)


def _like(frame: pd.DataFrame, meta: pd.DataFrame, path: str) -> pd.DataFrame:
    from ._report_input import ReportInputError

    if list(frame.columns) != list(meta.columns):
        raise ReportInputError(f"survey file {path} has the answers {list(frame.columns)} but the "
                               f"first file {list(meta.columns)}; every file needs the same "
                               "columns")
    return frame.astype(meta.dtypes.to_dict())


def read_survey_files(paths: Any, id_dtype: Any, customer_col: Optional[str] = None,
                      nps_col: Optional[str] = None, csat_col: Optional[str] = None,
                      date_col: Optional[str] = None) -> Any:
    """Survey answers from a CSV file, a folder or a glob of them: one partition per file, each
    read on a worker by the single-machine reader (:func:`crmkit._report_input.load_survey`,
    its checks and messages naming the file and row). `id_dtype` is the log's customer id
    type. Columns customer_id, nps and, when the files have them, csat and date."""
    import dask
    import dask.dataframe as dd

    from .dask import _expand

    files = _expand(paths)
    columns = (customer_col, nps_col, csat_col, date_col)
    meta = _survey_file(files[0], id_dtype, columns)
    meta = meta.astype({"nps": np.int64, **({"csat": np.float64} if "csat" in meta else {})})
    meta = meta.iloc[:0]
    parts = [dask.delayed(_like)(dask.delayed(_survey_file, pure=True)(path, id_dtype, columns),
                                 meta, path) for path in files]
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def _numbered(part: pd.DataFrame, first: int) -> pd.DataFrame:
    return part.assign(**{_POSITION: np.arange(first, first + len(part), dtype=np.int64)})


def _in_order(answers: Any) -> Any:
    """The answers with their position among all answers (the single-machine note names the
    first answer from a customer not in the log by it)."""
    import dask
    import dask.dataframe as dd

    parts = answers.to_delayed()
    sizes = dask.compute(*[dask.delayed(len)(part) for part in parts])
    firsts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    meta = _numbered(answers._meta, 0)
    return dd.from_delayed([dask.delayed(_numbered)(part, int(first))
                            for part, first in zip(parts, firsts)], meta=meta,
                           verify_meta=False)


def _tally_part(frame: pd.DataFrame, groups: list, integer_ids: bool, fields: dict) -> Any:
    """The partition's survey accumulators: its answers (joined with their customers' groups)
    as the pipeline tallies them (`fields`: the analysis options, ``AnalysisOptions._asdict``);
    a partition without answers gives the state of none, which merges like any other."""
    from . import _core
    from .report import _survey_arrays

    options = _core.pipeline.AnalysisOptions()
    for name, value in fields.items():
        setattr(options, name, value)

    arrays = _survey_arrays(frame, None if integer_ids else pd.Index([], dtype=object))
    in_log = frame[_IN_LOG].notna().to_numpy(dtype=np.uint8)
    keys = arrays["survey_customer"] if integer_ids else np.full(len(frame), -1, dtype=np.int64)
    codes = [(name, labels, drop, np.ascontiguousarray(
        pd.Categorical(frame[name], categories=labels).codes, dtype=np.int32))
        for name, labels, drop in groups]
    return _core.pipeline.tally_survey(keys, arrays["survey_nps"], arrays.get("survey_csat"),
                                       arrays.get("survey_day"), in_log, codes, options,
                                       frame[_POSITION].to_numpy(dtype=np.int64))


def _keyed(part: pd.DataFrame) -> pd.DataFrame:
    from .report import _survey_arrays

    return part.assign(_key=_survey_arrays(part, None)["survey_customer"])


def _merge(*states: Any) -> Any:
    from . import _core

    return _core.pipeline.merge_survey_cells(list(states))


def cluster_survey_tables(answers: Any, customers: Any, options: Any, notes: list) -> dict:
    """The survey tables (pandas, by name) of `answers` (Dask: customer_id, nps and optionally
    csat, date, as :func:`crmkit._report_input.load_survey` gives them) and the cluster's
    `customers` (Dask, indexed by customer id, with the columns of SURVEY_GROUPINGS); their
    notes are appended to `notes`.

    Raises
    ------
    ValueError
        No answer from a customer of the log (the pipeline's message), or answers off their
        scales.
    """
    import dask

    from . import _core
    from .dask import SPLIT_EVERY
    from .report import _frame, _one_line

    present = [(name, drop) for name, drop in _core.pipeline.SURVEY_GROUPINGS
               if name in customers.columns]
    groups = [(name, [str(label) for label in customers._meta[name].cat.categories], drop)
              for name, drop in present]
    side = customers[[name for name, _ in present]].assign(**{_IN_LOG: np.int8(1)})
    key = "customer_id"
    integer_ids = pd.api.types.is_integer_dtype(customers._meta.index.dtype)
    answers = _in_order(answers)
    if integer_ids:
        answers = answers.map_partitions(_keyed, meta=answers._meta.assign(_key=np.int64(0)))
    else:
        answers = answers.assign(_key=answers[key])
    joined = answers.merge(side, how="left", left_on="_key", right_index=True)
    parts = [dask.delayed(_tally_part)(part, groups, integer_ids, options._asdict())
             for part in joined.to_delayed()]
    while len(parts) > 1:
        parts = [dask.delayed(_merge)(*parts[i:i + SPLIT_EVERY])
                 for i in range(0, len(parts), SPLIT_EVERY)]
    state = parts[0].compute()
    try:
        taken, found = _core.pipeline.survey_tables(state, options)
    except ValueError as error:
        raise ValueError(f"survey answers: {_one_line(error)}") from None
    notes.extend(message for _, message in found)
    return {name: _frame(columns) for name, columns in taken}
