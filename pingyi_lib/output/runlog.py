"""What a report run tells as it goes: report.log (one line per finished report, written
so that a full disk is one plain sentence) and the time left on the progress line."""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("pingyi.report")


class RunLog(logging.StreamHandler):
    """report.log: created new (never through a link), and a failed write is kept to be
    reported as one line rather than printed as a logging traceback."""

    def __init__(self, path: Path):
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        self.path = path
        self.error: OSError | None = None
        super().__init__(open(os.open(path, flags, 0o644), "w", encoding="utf-8"))  # noqa: SIM115
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))

    def handleError(self, record) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError) and self.error is None:
            self.error = exc

    def finish(self) -> None:
        """Flush and close; raise the first write error (disk full) with the file named."""
        try:
            self.stream.close()
        except OSError as exc:
            self.error = self.error or exc
        if self.error is not None:
            if self.error.filename is None:
                self.error.filename = str(self.path)
            raise self.error


@contextmanager
def logging_to(path: Path, verbose: bool):
    handler = RunLog(path)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    if verbose:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(sh)
    try:
        yield handler
    finally:
        for h in list(log.handlers):
            log.removeHandler(h)
        if not handler.stream.closed:
            try:
                handler.stream.close()
            except OSError:
                pass


def log_result(r) -> None:
    """One line in report.log as soon as a report (``runner.JobResult``) is finished (the
    handler flushes each line)."""
    if r.ok:
        log.info("ok     %-40s %6.1fs", r.title, r.seconds)
    else:
        last = r.error_value.strip().splitlines()[-1] if r.error_value.strip() else ""
        log.error("FAILED %-40s %s: %s (cell %s)", r.title, r.error_name, last, r.cell)


def time_left(elapsed: float | None, done: int, total: int) -> float | None:
    """Seconds left at the average pace so far (None before the first report is done):
    ``elapsed / done × (total − done)``; all workers' progress is in ``done``."""
    if not done or elapsed is None:
        return None
    return elapsed / done * (total - done)


def time_left_column():
    from rich.progress import ProgressColumn
    from rich.text import Text

    class TimeLeft(ProgressColumn):
        """剩余 m:ss, estimated from the first finished report on (rich's own needs two)."""

        def render(self, task) -> Text:
            left = time_left(task.elapsed, int(task.completed), int(task.total or 0))
            if left is None:
                return Text("剩余 估算中", style="progress.remaining")
            m, s = divmod(int(round(left)), 60)
            return Text(f"剩余 {m}:{s:02d}", style="progress.remaining")

    return TimeLeft()
