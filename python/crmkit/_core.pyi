"""Type stubs for crmkit's compiled module.

The public, fully annotated API is the Python package (crmkit.data, crmkit.clv, crmkit.segment,
crmkit.survey, crmkit.lifecycle); these submodules are its engine. Their functions take keyword
arguments as documented in their docstrings and mostly return dicts of numpy arrays.
"""

from typing import Any

import numpy.typing as npt

__version__: str

def num_threads() -> int: ...
def set_num_threads(count: int) -> None: ...
def _parallel_sum(values: npt.ArrayLike, grain: int = ...) -> float: ...

class _Submodule:
    def __getattr__(self, name: str) -> Any: ...

data: _Submodule
clv: _Submodule
segment: _Submodule
survey: _Submodule
lifecycle: _Submodule
