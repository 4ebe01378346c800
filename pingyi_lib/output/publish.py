"""A report folder is published whole: the last good run or the new one, never a mix.

A run is built in a staging folder beside ``OUT`` (same file system) and swapped in at the
end with one atomic ``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere with two renames
that the next run repairs if it finds the first one done and the second not. Until the
swap, ``OUT`` is untouched: a killed run, a full disk or a crash leaves the previous report
as it was, and what the dead run wrote sits in a staging folder the next run removes.

Why staging rather than a run id in every page: the folder is what people open, copy
and serve, and a staging folder keeps every file of it (pages, workbook, notebooks, log,
assets) consistent without each reader having to check ids, and makes symlinks planted
in ``OUT`` harmless (nothing is written through ``OUT``; the old folder is removed without
following links).

One run at a time per ``OUT``: an exclusive ``flock`` on ``.OUT.pingyi-lock`` beside it.
A second run refuses at once with one line (:class:`FolderBusy`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import sys
import tempfile
from pathlib import Path

from pingyi_lib.common.errors import OptionError, ReportError

# files a desktop leaves in any folder: removed with the old report without asking
DESKTOP_DEBRIS = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


class FolderBusy(ReportError):
    """Another run holds the lock on the output folder."""


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux 3.15+, glibc 2.28+). False if not available here."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False  # the kernel or this file system cannot: two renames instead
    raise OSError(err, os.strerror(err), str(b))


def _remove_tree(path: Path) -> None:
    """Remove a folder without following a link inside it (rmtree does not on Linux)."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


class ReportFolder:
    """Lock ``out``, build in :attr:`staging`, :meth:`publish` at the end.

        with ReportFolder(out, known_names) as folder:
            write(folder.staging / "index.html")
            folder.publish()

    Leaving the block without ``publish`` (an error) removes the staging folder and leaves
    ``out`` as it was. ``known_names``: the entries a report folder holds; a folder with
    anything else is not replaced (it is someone's folder, not a report).
    """

    def __init__(self, out: str | Path, known_names: set[str] | frozenset[str]):
        self.out = Path(os.path.abspath(out))
        if self.out.is_symlink():
            self.out = self.out.resolve()  # --out names a link: publish where it points
        self.known = frozenset(known_names) | DESKTOP_DEBRIS
        self.parent = self.out.parent
        self.name = self.out.name
        self.staging: Path | None = None
        self._lock_fd: int | None = None
        self._published = False

    # ---- names beside OUT ----------------------------------------------------------------
    @property
    def lock_path(self) -> Path:
        return self.parent / f".{self.name}.pingyi-lock"

    def _leftovers(self, kind: str) -> list[Path]:
        prefix = f".{self.name}.pingyi-{kind}-"
        try:
            return sorted((p for p in self.parent.iterdir() if p.name.startswith(prefix)),
                          key=lambda p: p.lstat().st_mtime)
        except OSError:
            return []

    # ---- checks ----------------------------------------------------------------------------
    def check(self) -> None:
        """Refuse an ``out`` that is a file, someone's folder, or in a folder we cannot write."""
        if self.out.exists() and not self.out.is_dir():
            raise OptionError(f"--out {self.out} 是一个文件，不是文件夹")
        if self.out.is_dir():
            try:
                foreign = sorted(e.name for e in os.scandir(self.out) if e.name not in self.known
                                 and not e.name.startswith(".tmp-"))
            except OSError as exc:
                raise OptionError(f"--out {self.out} 无法读取：{exc.strerror}") from None
            if foreign:
                raise OptionError(f"--out {self.out} 中有不属于 pingyi 报告的内容（{', '.join(foreign[:3])}）；"
                                  "报告会整体替换这个文件夹，请换一个新的或空的文件夹")
            if not os.access(self.out, os.W_OK | os.X_OK):
                raise OptionError(f"--out {self.out} 不可写")
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OptionError(f"--out {self.out}：无法创建所在的文件夹（{exc.strerror}）") from None
        if not os.access(self.parent, os.W_OK | os.X_OK):
            raise OptionError(f"--out {self.out} 所在的文件夹 {self.parent} 不可写")

    # ---- lock --------------------------------------------------------------------------------
    def _lock(self) -> None:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        for _ in range(10):
            try:
                fd = os.open(self.lock_path, flags, 0o644)
            except PermissionError as exc:
                raise OptionError(f"--out {self.out} 所在的文件夹不可写（{exc.strerror}）") from None
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise OptionError(f"{self.lock_path} 是一个符号链接；请删除它") from None
                raise
            try:
                _try_lock(fd)
            except BlockingIOError:
                holder = os.read(fd, 64).decode("ascii", "replace").strip()
                os.close(fd)
                raise FolderBusy(f"另一个 pingyi report（进程 {holder or '?'}）正在写 {self.out}；"
                                 "请等它结束后再运行") from None
            try:  # the file may have been removed by the run that just let go: lock the current one
                same = os.stat(self.lock_path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, str(os.getpid()).encode("ascii"))
                self._lock_fd = fd
                return
            os.close(fd)
        raise FolderBusy(f"无法锁定 {self.out}：锁文件 {self.lock_path} 不断被替换")

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            self.lock_path.unlink()  # while still held: a waiter re-checks the inode
        os.close(self._lock_fd)
        self._lock_fd = None

    # ---- leftovers of a killed run ------------------------------------------------------------
    def recover(self) -> None:
        """Under the lock: finish or undo what a killed run left beside ``out``.

        A fallback swap killed between its two renames leaves no ``out`` and an ``-old-``
        folder: that is the last good report, and it goes back. Everything else (staging
        folders, old folders) is removed."""
        olds = self._leftovers("old")
        if not self.out.exists() and not self.out.is_symlink() and olds:
            os.rename(olds[-1], self.out)
            olds = olds[:-1]
        for p in [*self._leftovers("new"), *olds]:
            _remove_tree(p)

    # ---- the run ---------------------------------------------------------------------------------
    def __enter__(self) -> ReportFolder:
        self.check()
        self._lock()
        try:
            self.recover()
            try:
                self.staging = Path(tempfile.mkdtemp(prefix=f".{self.name}.pingyi-new-", dir=self.parent))
            except PermissionError as exc:
                raise OptionError(f"--out {self.out} 所在的文件夹不可写（{exc.strerror}）") from None
        except BaseException:
            self._unlock()
            raise
        return self

    def publish(self) -> None:
        """Swap the staging folder in as ``out``; the previous report is then removed."""
        assert self.staging is not None
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(self.staging, 0o777 & ~mask)  # mkdtemp made it private while it was built
        if not self.out.exists():
            os.rename(self.staging, self.out)
        elif _renameat2_exchange(self.staging, self.out):
            _remove_tree(self.staging)  # now holds the previous report
        else:
            old = self.parent / f".{self.name}.pingyi-old-{os.getpid()}"
            os.rename(self.out, old)
            os.rename(self.staging, self.out)
            _remove_tree(old)
        self._published = True
        self.staging = None

    def __exit__(self, *exc) -> None:
        try:
            if self.staging is not None and not self._published:
                _remove_tree(self.staging)
        finally:
            self._unlock()


def _try_lock(fd: int) -> None:
    """An exclusive lock on an open file, without waiting: BlockingIOError when another
    process holds it. flock on Linux and macOS; msvcrt's byte lock on Windows."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            raise BlockingIOError from None
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
