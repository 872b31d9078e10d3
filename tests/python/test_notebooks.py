"""The notebooks of examples/notebooks, executed top to bottom so that they never rot.

Each notebook runs in a fresh ipykernel started with the interpreter running pytest (so it
imports the crmkit under test: the pip-installed one in .venv, or the one on PYTHONPATH), in the
notebook's own folder, with matplotlib's Agg backend. Its assert cells are its checks: a failing
cell fails the test with the cell and its traceback.
"""

import gc
import json
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="Debian package python3-nbformat")
nbclient = pytest.importorskip("nbclient", reason="Debian package python3-nbclient")
pytest.importorskip("ipykernel", reason="Debian package python3-ipykernel")

from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[2] / "examples" / "notebooks"
SHARED_DATA = Path(os.environ.get("CRMKIT_SHARED_DATA",
                                  Path(__file__).resolve().parents[2].parent / "shared" / "data"))
CELL_TIMEOUT = 600
KERNEL = "crmkit-test-python"

pytestmark = [
    # nbclient 0.7 leaves one of the kernel client's zmq sockets to the garbage collector, which
    # warns; it is collected (and the warning ignored) inside the test that made it.
    pytest.mark.filterwarnings("ignore:Unclosed socket:ResourceWarning"),
]


def _kernel_environment():
    # The kernel runs in the notebooks' folder: a relative PYTHONPATH (build/<dir>/python) must
    # be made absolute to keep pointing at the crmkit under test.
    environment = {"MPLBACKEND": "Agg"}
    if os.environ.get("PYTHONPATH"):
        environment["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(entry) for entry in os.environ["PYTHONPATH"].split(os.pathsep) if entry)
    if os.environ.get("CRMKIT_SHARED_DATA"):
        environment["CRMKIT_SHARED_DATA"] = os.path.abspath(os.environ["CRMKIT_SHARED_DATA"])
    return environment


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory):
    """A kernelspec running this interpreter's ipykernel (Debian's "python3" spec would start
    /usr/bin/python3, which does not see a venv's crmkit)."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL
    spec.mkdir()
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "crmkit under test",
        "language": "python",
        "env": _kernel_environment(),
    }))
    return KernelSpecManager(kernel_dirs=[str(root)])


def _needs_shared_data(notebook) -> bool:
    return bool(notebook.metadata.get("crmkit", {}).get("needs_shared_data", False))


def _execute(notebook, kernel_specs):
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_specs)
    client = nbclient.NotebookClient(notebook, km=manager, timeout=CELL_TIMEOUT,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    del client, manager
    gc.collect()


def test_the_kernel_imports_the_crmkit_under_test(kernel_specs):
    import crmkit

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import crmkit, matplotlib\nprint(crmkit.__file__)\nprint(matplotlib.get_backend())")])
    _execute(notebook, kernel_specs)
    printed = notebook.cells[0].outputs[0].text.split()
    assert printed == [os.path.abspath(crmkit.__file__), "agg"]


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, kernel_specs):
    notebook = nbformat.read(path, as_version=4)
    if _needs_shared_data(notebook) and not SHARED_DATA.is_dir():
        pytest.skip(f"{path.name} reads the shared data folder, absent here ({SHARED_DATA})")
    _execute(notebook, kernel_specs)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    errors = [output for cell in code for output in cell.outputs if output.output_type == "error"]
    assert errors == []


def test_notebooks_are_stored_without_outputs():
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert {p.stem for p in paths} >= {"clv", "segmentation", "satisfaction", "lifecycle",
                                       "lifetimes_migration"}
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name
        assert any("assert " in cell.source for cell in notebook.cells), path.name
