"""Type stubs for crmkit's compiled module."""

import numpy as np
import numpy.typing as npt

__version__: str

def num_threads() -> int: ...
def set_num_threads(count: int) -> None: ...
def _parallel_sum(values: npt.ArrayLike, grain: int = ...) -> float: ...
