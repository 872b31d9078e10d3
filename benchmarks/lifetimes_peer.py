"""lifetimes 0.11.3 from its source, as bench_clv.py's peer, without installing or vendoring it.

lifetimes (CamDavidsonPilon/lifetimes, archived) and autograd (HIPS/autograd), which its
BG/NBD, MBG/NBD and Gamma-Gamma fits use for the gradient and the Hessian, are extracted with
``git archive`` from local clones into a temporary folder put first on ``sys.path``:

- lifetimes at tag v0.11.3, unmodified;
- autograd at tag v1.7.0, unmodified. lifetimes' requirements pin an autograd commit of May 2019
  (4ec5aed); that commit imports ``inspect.getargspec``, which Python 3.11 no longer has, so the
  first release that runs on this Python is used. autograd's differentiation is the same
  reverse-mode algorithm in both: lifetimes' fits take their usual path (BFGS with autograd's
  exact gradient, then autograd's Hessian).
- dill, which lifetimes imports only for ``save_model``/``load_model`` (never called here), is
  replaced by an empty module when it is not installed (Debian's python3-dill is used when it is).

The Pareto/NBD fit of lifetimes does not use autograd at all (Nelder-Mead on the likelihood);
its predictions, like those of the other models, are numpy/scipy code.

Clones are looked up in ``--lifetimes-git`` / ``--autograd-git`` (git directories) or in the
environment variables LIFETIMES_GIT and AUTOGRAD_GIT.
"""

from __future__ import annotations

import atexit
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import types

LIFETIMES_TAG = "refs/tags/v0.11.3"
AUTOGRAD_TAG = "refs/tags/v1.7.0"
DEFAULT_LIFETIMES_GIT = "/work/.mirror/CamDavidsonPilon+lifetimes/repo"
DEFAULT_AUTOGRAD_GIT = "/work/.mirror/HIPS+autograd/repo"


def _extract(git_dir: str, ref: str, folder: str, target: str) -> None:
    archive = subprocess.run(["git", "-C", git_dir, "archive", ref, folder], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", target], input=archive, check=True)


def load(lifetimes_git: str | None = None, autograd_git: str | None = None):
    """Import lifetimes from source; returns the module, or raises RuntimeError saying why not."""
    lifetimes_git = lifetimes_git or os.environ.get("LIFETIMES_GIT", DEFAULT_LIFETIMES_GIT)
    autograd_git = autograd_git or os.environ.get("AUTOGRAD_GIT", DEFAULT_AUTOGRAD_GIT)
    for name, path in (("lifetimes", lifetimes_git), ("autograd", autograd_git)):
        if not os.path.isdir(path):
            raise RuntimeError(f"no {name} clone at {path}")
    target = tempfile.mkdtemp(prefix="lifetimes_peer_")
    atexit.register(shutil.rmtree, target, True)
    _extract(lifetimes_git, LIFETIMES_TAG, "lifetimes", target)
    _extract(autograd_git, AUTOGRAD_TAG, "autograd", target)
    sys.path.insert(0, target)
    try:
        importlib.import_module("dill")
    except ImportError:
        sys.modules["dill"] = types.ModuleType("dill")
    lifetimes = importlib.import_module("lifetimes")
    if lifetimes.__version__ != "0.11.3":
        raise RuntimeError(f"expected lifetimes 0.11.3, imported {lifetimes.__version__}")
    return lifetimes
