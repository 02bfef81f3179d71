"""A status line for long commands: a spinner, what is being done, and the elapsed time.

It appears only on a terminal and only once the work has taken longer than ``delay`` seconds
(1 s by default), so quick commands and logs stay clean; it is transient (erased when done).

Example::

    with Activity(Console(stderr=True), "compiling") as activity:
        model = zkgrad.compile("mlp.onnx", progress=activity.update)
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console
from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task, TaskID, TextColumn
from rich.text import Text

DELAY_S = 1.0


class _Elapsed(ProgressColumn):
    """Seconds since the activity began (not since the status line appeared)."""

    def __init__(self, start: float) -> None:
        super().__init__()
        self.start = start

    def render(self, task: Task) -> Text:
        del task
        return Text(f"{time.monotonic() - self.start:.0f} s", style="progress.elapsed")


class Activity:
    """Context manager showing ``label`` (updated with :meth:`update`) after ``delay`` seconds."""

    def __init__(self, console: Console, label: str, delay: float = DELAY_S) -> None:
        self.console = console
        self.label = label
        self.delay = delay
        self.text = label
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._closed = False
        self._start = time.monotonic()

    @property
    def shown(self) -> bool:
        """Whether the status line has appeared."""
        return self._progress is not None

    def update(self, step: str) -> None:
        """Say what is being done now (shown as ``label: step``)."""
        with self._lock:
            self.text = f"{self.label}: {step}"
            if self._progress is not None and self._task is not None:
                self._progress.update(self._task, description=self.text)

    def _show(self) -> None:
        with self._lock:
            if self._closed:
                return
            progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                _Elapsed(self._start),
                console=self.console,
                transient=True,
            )
            self._task = progress.add_task(self.text, total=None)
            progress.start()
            self._progress = progress

    def __enter__(self) -> Activity:
        self._start = time.monotonic()
        if self.console.is_terminal:
            self._timer = threading.Timer(self.delay, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._progress is not None:
                self._progress.stop()
