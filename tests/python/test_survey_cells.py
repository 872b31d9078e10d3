"""load_survey reads whole-number columns as numbers (read_survey_cells' typed read): its answers
must be those of the same cells read as text (the reader's text path, the reference), and a
refusal must quote the cells as written."""

import numpy as np
import pandas as pd
import pytest

from crmkit._report_input import ReportInputError, _survey, load_survey, read_survey_cells

FILES = {
    "whole numbers": "customer_id,date,nps,csat\n1,2025-07-29,5,4\n 8,2025-05-23, 6 ,3\n"
                     "12,2025-01-02,+10,05\n",
    "blank csat": "customer_id,nps,csat\n1,5,\n2,9,4\n3,0, \n",
    "decimal answers": "customer_id,nps,csat\n1,5.0,4\n2,9,4.0\n",
    "dates as numbers": "customer_id,date,nps\n1,20250729,5\n2,20250101,7\n",
    "text ids": "customer_id,nps\n a1,5\nb2,9\n",
    "numeric ids as text": "customer_id,nps\n1,5\n2,9\n",
}


def _text_reference(path, ids):
    return _survey(read_survey_cells(path, text=True), path, ids, None, None, None, None,
                   text=True)


@pytest.mark.parametrize("name", list(FILES))
def test_answers_are_those_of_the_cells_read_as_text(tmp_path, name):
    path = str(tmp_path / "survey.csv")
    with open(path, "w") as handle:
        handle.write(FILES[name])
    ids = (pd.Series(["a1", "b2", "1", "2"]) if "text" in name
           else pd.Series([1, 2, 3, 8, 12], dtype=np.int64))
    found = load_survey(path, ids)
    pd.testing.assert_frame_equal(found, _text_reference(path, ids), check_exact=True)
    typed = read_survey_cells(path)
    pd.testing.assert_frame_equal(load_survey(path, ids, cells=typed), found, check_exact=True)


def test_a_refused_answer_is_quoted_as_written(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("customer_id,nps\n1,5\n2,12\n")
    assert read_survey_cells(str(path))["nps"].dtype == np.int64
    with pytest.raises(ReportInputError, match=r"survey.csv:3: column 'nps': '12' is not a whole "
                                               r"number from 0 to 10 \(1 such answer\(s\)\)"):
        load_survey(str(path), pd.Series([1, 2], dtype=np.int64))
