"""A status line for long commands: a spinner, the stage, a bar and the elapsed time.

It appears only on a terminal and only once the work has taken longer than ``delay`` seconds
(1 s by default, ``ZKGRAD_PROGRESS_DELAY`` overrides it), so quick commands and logs stay
clean; it is transient (erased when done). The bar is exact when a stage says how far it is
(:meth:`Activity.stage` with ``done`` and ``total``); otherwise it pulses, claiming nothing.

Example::

    with Activity(Console(stderr=True), "compiling") as activity:
        model = zkgrad.compile("mlp.onnx", progress=activity.update)
    with Activity(Console(stderr=True), "proving") as activity:
        activity.stage("sumchecks", done=3, total=7)      # "proving: sumchecks 3/7" and a bar
"""

from __future__ import annotations

import os
import threading
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
)
from rich.text import Text

DELAY_S = 1.0
#: Seconds before the status line appears, instead of :data:`DELAY_S` (tests, screencasts).
DELAY_ENV = "ZKGRAD_PROGRESS_DELAY"


def default_delay() -> float:
    """:data:`DELAY_S`, or ``$ZKGRAD_PROGRESS_DELAY`` when it holds a number of seconds."""
    try:
        return max(0.0, float(os.environ.get(DELAY_ENV, DELAY_S)))
    except ValueError:
        return DELAY_S


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

    def __init__(self, console: Console, label: str, delay: float | None = None) -> None:
        self.console = console
        self.label = label
        self.delay = default_delay() if delay is None else delay
        self.text = label
        self.done: int | None = None
        self.total: int | None = None
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
        """Say what is being done now (shown as ``label: step``); the bar pulses."""
        self.stage(step)

    def stage(self, name: str, done: int | None = None, total: int | None = None) -> None:
        """Say which stage runs; with ``done`` of ``total`` steps, the bar shows how far.

        The signature is the one a prover reporting its stages (witness, commitments,
        sumchecks, openings) would call back with.
        """
        with self._lock:
            known = total is not None and total > 0 and done is not None
            self.done, self.total = (min(max(done, 0), total), total) if known else (None, None)
            self.text = f"{self.label}: {name}"
            if known:
                self.text += f" {self.done}/{self.total}"
            self._refresh()

    def _refresh(self) -> None:
        # A new task per stage: rich cannot turn a task's known total back into "unknown".
        if self._progress is not None and self._task is not None:
            self._progress.remove_task(self._task)
            self._task = self._progress.add_task(
                self.text, total=self.total, completed=self.done or 0
            )
            self._progress.refresh()  # every stage drawn at least once, however short

    def _show(self) -> None:
        with self._lock:
            if self._closed:
                return
            progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                _Elapsed(self._start),
                console=self.console,
                transient=True,
            )
            self._task = progress.add_task(self.text, total=self.total, completed=self.done or 0)
            progress.start()
            self._progress = progress

    def __enter__(self) -> Activity:
        self._start = time.monotonic()
        if self.console.is_terminal and self.delay <= 0:
            self._show()
        elif self.console.is_terminal:
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
