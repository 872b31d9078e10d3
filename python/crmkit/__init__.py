"""crmkit: customer analytics for CRM.

Segmentation (RFM, k-means, value tiers), customer lifetime value (BG/NBD, MBG/NBD,
Gamma-Gamma), satisfaction (NPS, CSAT, CES) and relationship lifecycle stages, computed by a
C++20 core. Names follow the `lifetimes` and scikit-learn conventions, so existing notebooks run
after changing one import. Every function takes numpy arrays or pandas objects and returns
pandas objects indexed like its input.
"""

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - only without a build
    raise ImportError(
        "crmkit's compiled module crmkit._core could not be imported. Install the package with "
        "`pip install --no-build-isolation .` from a checkout (see README.md), or put a CMake "
        "build's python/ folder on PYTHONPATH."
    ) from exc

from ._core import num_threads, set_num_threads
from ._warnings import ParseError
from . import basket, clv, data, datasets, generate_data, lifecycle, segment, survey
from .basket import *  # noqa: F401,F403
from . import evaluate, intervals
from .clv import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .lifecycle import *  # noqa: F401,F403
from .segment import *  # noqa: F401,F403
from .survey import *  # noqa: F401,F403

__version__: str = _core.__version__

__all__ = (
    ["__version__", "num_threads", "set_num_threads", "ParseError"]
    + data.__all__
    + clv.__all__
    + segment.__all__
    + survey.__all__
    + lifecycle.__all__
    + basket.__all__
)
