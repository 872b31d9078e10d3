"""Hypothesis profiles, and the Dask client of the cluster tests. With CRMKIT_HYPOTHESIS_PROFILE=ci (scripts/test.sh and .ci/run) every run
draws the same examples, so that a red CI can be reproduced and a green one means the same thing
each time; a plain `pytest` keeps drawing new examples, which is how new counterexamples are found
(pin each one with @example). An environment variable, because this conftest is read after
pytest has parsed --hypothesis-profile."""

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("CRMKIT_HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="module")
def client():
    """A distributed.Client on a 2-worker LocalCluster bound to 127.0.0.1, one per test module
    (the modules that use it skip themselves when python3-distributed is missing)."""
    import crmkit.dask as cdask

    client = cdask.local_client(n_workers=2, threads_per_worker=1)
    yield client
    client.close()
    client.cluster.close()
