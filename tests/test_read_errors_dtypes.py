"""read_errors: job_id has the "string" dtype of the other text columns."""

import pandas as pd

from drs_analytics.report import read_errors


def test_job_id_is_string_dtype_like_the_other_text_columns(tmp_path):
    path = tmp_path / "errors.csv"
    path.write_text(
        "job_id,status_code,error_code,error_msg,attempts,error_type,request_id,detail\n"
        "-05,404,,not found,2,APIError,,HTTP 404 from GET x\n"
        ",,,,0,InvalidIDError,,bad ID\n"
        "1e3,,,,1,TransportError,r-1,no answer\n",
        encoding="utf-8",
    )
    errors = read_errors(path, neutralised=False)
    assert errors["job_id"].dtype == pd.StringDtype()
    assert errors["job_id"].dtype == errors["error_type"].dtype == errors["detail"].dtype
    assert errors["job_id"].tolist() == ["-05", "", "1e3"]  # text stays text; an empty label stays ""
    assert not errors["job_id"].isna().any()
    assert errors["error_code"].isna().tolist() == [True, True, True]
    assert errors["request_id"].tolist()[2] == "r-1" and errors["request_id"].isna().tolist()[:2] == [True, True]
    assert errors["status_code"].tolist()[0] == 404 and errors["status_code"].isna().tolist() == [False, True, True]
    assert errors["attempts"].tolist() == [2, 0, 1]
