"""One `crmkit` command per installation: the Python command runs `report` itself and hands the
C++ tool's subcommands (summary, clv, rfm, kmeans, nps, lifecycle) to the tool, unchanged."""

import os
import subprocess
import sys

import pytest

from crmkit import __main__ as cli


def _tool():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    built = os.path.join(root, "build", "release", "tools", "cli", "crmkit")
    tool = os.environ.get("CRMKIT_CLI") or (built if os.access(built, os.X_OK) else None)
    if tool is None:
        pytest.skip("the C++ crmkit tool is not built (set CRMKIT_CLI or build "
                    "build/release/tools/cli/crmkit; scripts/test.sh sets it)")
    return tool


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,date,amount\n1,2024-01-01,10\n1,2024-02-01,20\n"
                    "2,2024-01-15,5\n2,2024-03-01,7.5\n2,2024-04-01,1\n3,2024-02-10,3\n")
    return path


def test_a_tool_subcommand_gives_exactly_the_tools_output_and_exit_status(log_file, monkeypatch):
    tool = _tool()
    monkeypatch.setenv("CRMKIT_CLI", tool)
    direct = subprocess.run([tool, "summary", str(log_file), "--freq", "week"],
                            capture_output=True, text=True, check=False)
    assert direct.returncode == 0, direct.stderr
    assert direct.stdout.count("\n") == 4  # header + three customers
    handed = subprocess.run([sys.executable, "-m", "crmkit", "summary", str(log_file), "--freq",
                             "week"], capture_output=True, text=True, check=False,
                            env={**os.environ, "CRMKIT_CLI": tool})
    assert (handed.returncode, handed.stdout, handed.stderr) == (0, direct.stdout, direct.stderr)
    missing = subprocess.run([sys.executable, "-m", "crmkit", "rfm", str(log_file) + ".absent"],
                             capture_output=True, text=True, check=False,
                             env={**os.environ, "CRMKIT_CLI": tool})
    assert missing.returncode == 2 and ".absent" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_without_the_tool_a_tool_subcommand_is_one_line_saying_so(monkeypatch, capsys):
    monkeypatch.setenv("CRMKIT_CLI", "")
    monkeypatch.setattr(cli.os.path, "abspath", lambda path: "/nonexistent/crmkit/__main__.py")
    assert cli.tool_path() is None
    assert cli.main(["clv", "summary.csv"]) == cli.EXIT_BAD_INPUT
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "crmkit clv: error: the C++ crmkit tool is not" in error


def test_report_stays_the_python_report_and_help_names_every_subcommand(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "report" in text
    for command in cli.TOOL_COMMANDS:
        assert command in text
