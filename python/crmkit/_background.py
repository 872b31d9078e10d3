"""A call on its own thread, for the library's calls that release the GIL (reading, writing,
fitting), so that Python goes on meanwhile."""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

__all__ = ["Background"]


class Background:
    """`function(*arguments)` run on its own thread; :meth:`wait` returns its seconds or raises
    its error, and :attr:`value` is what it returned."""

    def __init__(self, function: Callable, *arguments, name: str = "crmkit-csv"):
        self._error: Optional[BaseException] = None
        self._seconds = 0.0
        self.value = None
        self._thread = threading.Thread(target=self._run, args=(function, arguments),
                                        name=name, daemon=True)
        self._thread.start()

    def _run(self, function: Callable, arguments: tuple) -> None:
        start = time.perf_counter()
        try:
            self.value = function(*arguments)
        except BaseException as error:  # handed to the caller by wait()
            self._error = error
        self._seconds = time.perf_counter() - start

    def join(self) -> None:
        """Waits for the call to end, leaving its error (if any) for :meth:`wait`."""
        self._thread.join()

    def wait(self) -> float:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._seconds
