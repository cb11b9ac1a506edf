"""Resumable batch jobs: :class:`Session`."""

from __future__ import annotations

import os
import queue
import threading
from typing import Any, Callable, Iterator, Optional, Sequence, Union

from . import _pixpress
from .errors import CancelledError

PathLike = Union[str, "os.PathLike[str]"]


class Session:
    """A batch job whose state survives a crash or ``kill -9``.

    ``Session(["photos"], "out", format="webp", quality=80)`` lists the inputs
    and keeps the job's state in ``out/.pixpress-session``; constructing it
    again with the same arguments (or ``Session.open(state_dir)``) resumes it:
    finished files whose input is unchanged and whose output is intact are
    skipped, anything missing, torn or altered is redone.

    Keyword arguments: ``state`` (state directory), ``include`` and
    ``exclude`` (globs relative to an input directory), ``naming`` (default
    ``"{path}.{ext}"``), ``jobs`` (worker threads, 0 = one per core), and any
    option of the shared vocabulary (``format``, ``quality``, ``resize``, ...).

    Progress comes two ways: ``run(progress=callback)``, or iterating over
    the session (``for report in session:``, or ``tqdm(session)``), which runs
    it in a background thread and yields one dict per finished task.
    """

    def __init__(self, inputs: Sequence[PathLike], output: PathLike, **kwargs: Any) -> None:
        self._native = _pixpress.Session([os.fspath(p) for p in inputs], os.fspath(output), **kwargs)

    @classmethod
    def open(cls, state_dir: PathLike) -> "Session":
        """Opens the session whose state is in ``state_dir``, to resume it."""
        session = cls.__new__(cls)
        session._native = _pixpress.Session.open(os.fspath(state_dir))
        return session

    def status(self) -> dict:
        """Counts over the tasks: total, done, failed, pending, bytes_in, bytes_out."""
        return self._native.status()

    def __len__(self) -> int:
        return len(self._native)

    def run(self, progress: Optional[Callable[[dict], Any]] = None) -> dict:
        """Runs the job to its end (GIL released); see the class documentation.

        ``progress`` gets a dict per finished task (input, output, outcome,
        code, error, done, failed, total, rate, eta, ...); returning False stops
        the run once the tasks in flight finish, with CancelledError.
        """
        return self._native.run(progress)

    def cancel(self) -> None:
        """Stops a running ``run`` once the tasks in flight finish (any thread)."""
        self._native.cancel()

    def retry_failed(self) -> int:
        """Marks failed tasks pending again for the next run; returns how many."""
        return self._native.retry_failed()

    def failures(self) -> list:
        """The failed tasks as dicts: input, code, error."""
        return self._native.failures()

    def close(self) -> None:
        """Closes the session: its state stays on disk and its lock is
        released, so another handle or process may open it (also on leaving a
        ``with`` block, and when the object is collected)."""
        self._native.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def results(self) -> Iterator[dict]:
        """Runs the job in a background thread, yielding each task's report.

        Leaving the loop early cancels the run (what finished is kept).
        """
        reports: "queue.Queue[Any]" = queue.Queue(maxsize=1024)
        end = object()
        outcome: dict = {}

        def work() -> None:
            try:
                outcome["status"] = self._native.run(reports.put)
            except BaseException as e:  # re-raised in the consumer's thread
                outcome["error"] = e
            finally:
                reports.put(end)

        thread = threading.Thread(target=work, name="pixpress-session", daemon=True)
        thread.start()
        finished = False
        try:
            while (item := reports.get()) is not end:
                yield item
            finished = True
        finally:
            if not finished:
                self._native.cancel()
                while reports.get() is not end:
                    pass
            thread.join()
        error = outcome.get("error")
        if error is not None and not (not finished and isinstance(error, CancelledError)):
            raise error

    __iter__ = results
