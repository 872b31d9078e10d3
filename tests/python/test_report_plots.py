"""The report's figures are the same bytes whether one process draws them or two."""

import sys

import pytest

import crmkit
from crmkit import _report_plots
from crmkit._report_input import simulate_demo
from crmkit._report_plots import PlotDrawing, plot_names
from crmkit.report import PREDICTION_WEEKS, build_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    log, survey = simulate_demo(1500, 6)
    report = build_report(log, str(tmp_path_factory.mktemp("out")), survey=survey, progress=None)
    return report.tables


def _draw(tables, threads):
    params = tables["model_parameters"]["estimate"]
    previous = crmkit.num_threads()
    crmkit.set_num_threads(threads)
    try:
        return PlotDrawing(tables, {name: params[name] for name in ("r", "alpha", "a", "b")},
                           40.0, PREDICTION_WEEKS).result()
    finally:
        crmkit.set_num_threads(previous)


def _as_the_only_thread(monkeypatch):
    """Threads left behind by earlier tests of the session (executor workers) would rightly stop
    the fork; the tests that use this are about what the two processes draw."""
    monkeypatch.setattr(_report_plots.threading, "active_count", lambda: 1)


def _count_forks(monkeypatch):
    forks = []
    fork = _report_plots.os.fork

    def counted():
        forks.append(1)
        return fork()

    monkeypatch.setattr(_report_plots.os, "fork", counted)
    return forks


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="two processes only on Linux")
def test_two_processes_draw_the_same_figures_as_one(tables, monkeypatch):
    _as_the_only_thread(monkeypatch)
    forks = _count_forks(monkeypatch)
    one = _draw(tables, 1)
    assert forks == []
    two = _draw(tables, 2)
    assert forks == [1, 1]
    assert list(one) == plot_names(tables) == list(two)
    assert len(one) == 12
    for name, png in one.items():
        assert png.startswith(PNG_SIGNATURE), name
        assert two[name] == png, name


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="two processes only on Linux")
def test_the_figures_of_a_child_that_fails_are_drawn_here(tables, monkeypatch):
    _as_the_only_thread(monkeypatch)
    one = _draw(tables, 1)

    def fail(*_):  # only the forked child pickles its figures
        raise MemoryError("child out of memory")

    monkeypatch.setattr(_report_plots.pickle, "dumps", fail)
    forks = _count_forks(monkeypatch)
    assert _draw(tables, 2) == one
    assert forks == [1, 1]


def test_the_split_gives_each_process_about_half_the_cost():
    names = plot_names({"calibration_vs_holdout": None, "stage_migration": None,
                        "nps_by_month": None})
    ours, theirs = _report_plots._split(names)
    assert sorted(ours + theirs) == sorted(names)
    cost = [sum(_report_plots._COST.get(name, 1) for name in part) for part in (ours, theirs)]
    # 12 figures costing 4 + 3 + 2 + 2 + 2 + 7 x 1 = 20: split 10 / 10 by the greedy rule.
    assert cost == [10, 10]


def test_no_fork_while_another_python_thread_runs(tables, monkeypatch):
    import threading

    forks = _count_forks(monkeypatch)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        drawn = _draw(tables, 2)
    finally:
        release.set()
        other.join()
    assert forks == []
    assert list(drawn) == plot_names(tables)
