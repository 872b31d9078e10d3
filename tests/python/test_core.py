"""The package imports, reports its version, and its parallel reduction is deterministic."""

import re

import numpy as np

import crmkit


def test_version_matches_the_cpp_header():
    assert re.fullmatch(r"\d+\.\d+\.\d+", crmkit.__version__)
    from importlib.metadata import version

    assert version("crmkit") == crmkit.__version__


def test_thread_count_is_settable_and_results_do_not_depend_on_it():
    rng = np.random.default_rng(7)
    values = rng.standard_normal(500_000) * 10.0 ** rng.integers(-20, 20, 500_000)
    saved = crmkit.num_threads()
    try:
        sums = []
        for threads in (1, 2, 8):
            crmkit.set_num_threads(threads)
            assert crmkit.num_threads() == threads
            sums.append(crmkit._core._parallel_sum(values, 1000))
        assert sums[0] == sums[1] == sums[2]
    finally:
        crmkit.set_num_threads(saved)


def test_unaligned_arrays_are_read_as_their_aligned_copies():
    # Dask unpickles buffers at arbitrary offsets; the core must not read doubles in place there
    # (undefined behaviour, which UBSan reports in CI's sanitizer run). Same answer, bit for bit.
    values = np.random.default_rng(11).standard_normal(10_001)
    raw = np.zeros(values.nbytes + 1, dtype=np.uint8)  # numpy aligns raw; raw[1:] is not
    raw[1:] = values.view(np.uint8)
    unaligned = np.frombuffer(raw.data[1:], dtype=np.float64)
    assert not unaligned.flags.aligned
    np.testing.assert_array_equal(unaligned, values)
    assert crmkit._core._parallel_sum(unaligned, 1000) == crmkit._core._parallel_sum(values, 1000)
