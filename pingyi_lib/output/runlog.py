"""What a report run tells as it goes: report.log (one line per finished report, written
so that a full disk is one plain sentence) and the time left on the progress line.

A scheduled run mails every line it prints on stderr, so what other programs say during a
run goes to report.log instead: Python warnings of the run (deprecations, a library's
advice) through :func:`logging.captureWarnings`, and what the notebook kernels print on
their stderr (ipykernel's "Kernel is running over TCP" at every start) through the kernels'
log, folded into report.log at the end (:func:`fold_in`)."""

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


class Unpathed(logging.Formatter):
    """report.log's lines with the server's folders named by their last part: the log is
    published with the report, which names the round, never where it lies on the server.
    ``folders``: absolute folder or file → the name that stands for it (longest first)."""

    def __init__(self, fmt: str, folders: dict[str, str]):
        super().__init__(fmt)
        self.folders = sorted(((str(k), v) for k, v in folders.items() if str(k) not in ("", ".", "/")),
                              key=lambda kv: -len(kv[0]))

    def format(self, record) -> str:
        text = super().format(record)
        for path, name in self.folders:
            text = text.replace(path, name)
        return text


def server_folders(**named: str | Path | None) -> dict[str, str]:
    """Each absolute path given (dataset=…, out=…) → its last part, plus the folders of the
    Python that runs pingyi (a library's warning names its file) → 'python'."""
    out = {str(Path(p).resolve()): Path(p).name for p in named.values() if p}
    out.update({str(p): Path(p).name for p in named.values() if p})
    for prefix in {sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parents[2])}:
        out.setdefault(prefix, "python")
    return out


@contextmanager
def logging_to(path: Path, verbose: bool, folders: dict[str, str] | None = None):
    """report.log at ``path`` for the run (``folders``: see :class:`Unpathed`)."""
    handler = RunLog(path)
    if folders:
        handler.setFormatter(Unpathed("%(asctime)s %(levelname)s %(message)s", folders))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    warned = logging.getLogger("py.warnings")  # a library's warnings: the log, not the terminal
    kept = warned.propagate
    warned.addHandler(handler)
    warned.propagate = False
    logging.captureWarnings(True)
    if verbose:
        sh = logging.StreamHandler(sys.stderr)
        sh.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(sh)
    try:
        yield handler
    finally:
        logging.captureWarnings(False)
        warned.removeHandler(handler)
        warned.propagate = kept
        for h in list(log.handlers):
            log.removeHandler(h)
        if not handler.stream.closed:
            try:
                handler.stream.close()
            except OSError:
                pass


def fold_in(kernel_log: Path) -> None:
    """Move what the kernels printed (``kernel_log``) into report.log, each distinct line once
    with how often it came (a warning every kernel prints at start is one line, not one per
    page), masked as the log is; then remove ``kernel_log``."""
    from pingyi_lib.common.masking import mask_personal_data

    try:
        text = kernel_log.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    seen: dict[str, int] = {}
    for line in text.splitlines():
        if line.strip():
            seen[line.rstrip()] = seen.get(line.rstrip(), 0) + 1
    for line, n in seen.items():
        log.warning("内核输出%s：%s", f"（{n} 次）" if n > 1 else "", mask_personal_data(line))
    kernel_log.unlink()


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
