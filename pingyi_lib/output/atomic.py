"""Write files so a reader never sees half of one: write beside, then rename into place."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it replaces ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was; an
    ``OSError`` (disk full) names ``path``. The temporary file is made with ``O_EXCL`` and
    renamed over ``path``: a symbolic link at ``path`` is replaced, never followed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; published files are readable
        os.replace(tmp, path)
    except OSError as exc:
        if exc.filename is None:  # a write that failed (disk full) names the file it was for
            exc.filename = str(path)
        elif exc.filename == tmp:
            exc.filename = str(path)
        raise
    finally:
        Path(tmp).unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
