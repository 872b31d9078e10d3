"""crmkit.datasets: lifetimes' loaders with the same return shapes, and the data files shipped
inside the package byte-identical to the reference data (../shared/data)."""

from pathlib import Path

import pandas as pd
import pytest

import crmkit
from crmkit.datasets import (load_cdnow_summary, load_cdnow_summary_data_with_monetary_value,
                             load_dataset, load_donations, load_transaction_data)

DATA = Path(__file__).parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared data directory absent")
FILES = ["CDNOW_master.txt", "CDNOW_sample.txt", "cdnow_customers_summary.csv",
         "cdnow_customers_summary_with_transactions.csv", "donations.csv", "example_transactions.csv"]


def test_loaders_return_lifetimes_shapes():
    summary = load_cdnow_summary(index_col=[0])
    assert summary.shape == (2357, 3) and list(summary.columns) == ["frequency", "recency", "T"]
    assert summary.index.name == "ID"
    assert list(load_cdnow_summary().columns) == ["ID", "frequency", "recency", "T"]
    spend = load_cdnow_summary_data_with_monetary_value()
    assert spend.index.name == "customer_id" and spend.shape == (2357, 4)
    assert list(spend.columns) == ["frequency", "recency", "T", "monetary_value"]
    assert spend.loc[1, "monetary_value"] == pytest.approx(22.35)
    log = load_transaction_data()
    assert list(log.columns) == ["date", "id"] and len(log) == 15_273 and log["id"].nunique() == 5000
    donations = load_donations()
    assert list(donations.columns) == ["frequency", "recency", "periods", "weights"]
    assert len(donations) == 22 and donations["weights"].sum() == 11_104
    sample = load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+")
    assert sample.shape == (6919, 5)
    assert list(load_donations(usecols=["weights"]).columns) == ["weights"]


def test_the_package_names_match_lifetimes():
    import crmkit.datasets as datasets

    assert set(datasets.__all__) == {"load_cdnow_summary", "load_transaction_data",
                                     "load_cdnow_summary_data_with_monetary_value", "load_donations"}
    assert crmkit.datasets is datasets


def test_unknown_file_is_a_named_error():
    with pytest.raises(FileNotFoundError, match="no data set 'larynx.csv'.*donations.csv"):
        load_dataset("larynx.csv")
    with pytest.raises(FileNotFoundError):
        load_dataset("../clv.py")


@needs_data
@pytest.mark.parametrize("name", FILES)
def test_shipped_files_are_the_reference_files(name):
    shipped = Path(crmkit.datasets.__file__).parent / name
    assert shipped.read_bytes() == (DATA / name).read_bytes()


def test_readme_gives_the_provenance():
    text = (Path(crmkit.datasets.__file__).parent / "README.md").read_text(encoding="utf-8")
    for name in FILES:
        assert name in text
    assert "Fader, Hardie & Shang (2010)" in text and "lifetimes" in text
