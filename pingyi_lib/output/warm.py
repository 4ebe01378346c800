"""A warm kernel for each report worker: started once, with what the notebooks import
already imported, and every page run in a fresh namespace of it.

A page's own work is a fraction of a second; starting a kernel and importing pandas, plotly
and pingyi_lib into it cost more than the page. A worker therefore keeps one kernel
(:func:`kernel`): started on its first page with the modules the report notebooks import
(:func:`preload`), and before every page brought back to the state it had then
(:data:`RESET`): the namespace emptied, the execution counter at 1, the working folder,
``sys.path``, the environment, the warning filters and the pandas and plotly defaults as
they were. Modules stay imported; nothing a page defines does. A page that kills its kernel
or runs past the page time limit (:meth:`WarmKernel.limit`) fails alone: the kernel is
replaced before the next page.
"""

from __future__ import annotations

import ast
import os
import signal
import threading
import time
from pathlib import Path

KERNEL = "python3"
START_SECONDS = 60
PRELOAD_SECONDS = 300
# the kernel keeps no history file (as nbclient's own kernels): pages share nothing on disk
EXTRA_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]

# run once after the preload: what a page must find as the first page found it
SNAPSHOT = """
def __pingyi_snapshot():
    import os, sys, warnings
    saved = {"cwd": os.getcwd(), "path": list(sys.path), "env": dict(os.environ),
             "filters": list(warnings.filters)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import copy
            from pandas._config import config as pdc
            saved["pandas"] = {k: pdc.get_option(k) for k in list(pdc._registered_options)}
            saved["pandas_all"] = copy.deepcopy(pdc._global_config)
        except Exception:
            pass
    try:
        import plotly.io as pio
        saved["plotly"] = (pio.templates.default, pio.renderers.default)
    except Exception:
        pass

    def restore():
        import gc, os, sys, warnings
        ip = get_ipython()
        collect = gc.collect  # IPython's reset collects garbage: a tenth of a second with pandas loaded, per page
        gc.collect = lambda *args, **kwargs: 0
        try:
            ip.reset(new_session=False)
        finally:
            gc.collect = collect
        ip.user_ns["__pingyi_restore"] = restore
        ip.user_ns_hidden["__pingyi_restore"] = restore
        ip.execution_count = 1
        os.chdir(saved["cwd"])
        sys.path[:] = saved["path"]
        for k in set(os.environ) - set(saved["env"]):
            del os.environ[k]
        os.environ.update(saved["env"])
        warnings.filters[:] = saved["filters"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pandas._config import config as pdc
            if pdc._global_config != saved.get("pandas_all", pdc._global_config):  # a page set an option
                for k, v in saved.get("pandas", {}).items():
                    if pdc.get_option(k) != v:
                        pdc.set_option(k, v)
        if "plotly" in saved:
            import plotly.io as pio
            pio.templates.default, pio.renderers.default = saved["plotly"]

    return restore

__pingyi_restore = __pingyi_snapshot()
get_ipython().user_ns_hidden["__pingyi_restore"] = __pingyi_restore
del __pingyi_snapshot
"""
RESET = "__pingyi_restore()"


def preload(notebooks: list[str | Path]) -> list[str]:
    """The modules the notebooks import at the top level of their code cells, in order, each
    once (``import a.b``, ``from a.b import c`` give ``a.b``; relative imports are skipped)."""
    import nbformat

    names: list[str] = []
    for path in notebooks:
        try:
            nb = nbformat.read(str(path), as_version=4)
        except (OSError, ValueError):
            continue
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:  # IPython magics: the page itself will say what is wrong
                continue
            for node in tree.body:
                if isinstance(node, ast.Import):
                    names += [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    # `from a import b`: b may be a module of a (tried; a name that is not one is skipped)
                    names += [node.module] + [f"{node.module}.{a.name}" for a in node.names if a.name != "*"]
    return list(dict.fromkeys(names))


def _import_code(modules: list[str]) -> str:
    if not modules:
        return ""
    return ("import importlib as __pingyi_il\n"
            f"for __pingyi_m in {modules!r}:\n"
            "    try:\n        __pingyi_il.import_module(__pingyi_m)\n"
            "    except Exception:\n        pass\n"
            "del __pingyi_il, __pingyi_m\n")


class KernelFailed(RuntimeError):
    """The warm kernel could not be started or prepared."""


class Deadline(threading.Timer):
    """Kills a kernel process when it fires; ``fired`` says whether it did."""

    def __init__(self, seconds: float, pid: int):
        super().__init__(seconds, self._end, args=(pid,))
        self.daemon = True
        self.fired = False

    def _end(self, pid: int) -> None:
        self.fired = True
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


class WarmKernel:
    """One started kernel with its client; :meth:`fresh` before every page."""

    def __init__(self, cwd: str, modules: list[str]):
        from jupyter_client.manager import AsyncKernelManager
        from nbclient.util import run_sync

        self.cwd = cwd
        self.km = AsyncKernelManager(kernel_name=KERNEL)
        run_sync(self.km.start_kernel)(cwd=cwd, extra_arguments=EXTRA_ARGUMENTS)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.allow_stdin = False
        try:
            run_sync(self.kc.wait_for_ready)(timeout=START_SECONDS)
            self._run(_import_code(modules) + SNAPSHOT, PRELOAD_SECONDS)
        except Exception:
            self.stop()
            raise

    @property
    def pid(self) -> int | None:
        return getattr(self.km.provisioner, "pid", None)

    def alive(self) -> bool:
        from nbclient.util import run_sync

        try:
            return bool(run_sync(self.km.is_alive)())
        except Exception:  # noqa: BLE001 - a kernel that cannot say is not used again
            return False

    def _run(self, code: str, timeout: float) -> None:
        """Run ``code`` silently (no output, no history, the counter unchanged); raise
        :class:`KernelFailed` on an error or when no reply comes within ``timeout``."""
        from nbclient.util import run_sync

        async def ask() -> dict:
            msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise KernelFailed("内核没有响应")
                msg = await self.kc.get_shell_msg(timeout=left)
                if msg.get("parent_header", {}).get("msg_id") == msg_id:
                    return msg["content"]

        content = run_sync(ask)()
        if content.get("status") != "ok":
            raise KernelFailed(f"{content.get('ename', '')}: {content.get('evalue', '')}")

    def fresh(self) -> None:
        """The kernel as it was before its first page (see the module doc)."""
        self._run(RESET, START_SECONDS)

    def limit(self, seconds: float | None) -> Deadline | None:
        """End the kernel (SIGKILL) after ``seconds`` unless the returned deadline is cancelled:
        a page that hangs fails alone, the batch goes on with a new kernel."""
        pid = self.pid
        if not seconds or pid is None:
            return None
        deadline = Deadline(seconds, pid)
        deadline.start()
        return deadline

    def stop(self) -> None:
        from nbclient.util import run_sync

        try:
            self.kc.stop_channels()
        except Exception:  # noqa: BLE001
            pass
        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - already gone
            pass


_KERNEL: WarmKernel | None = None


def kernel(cwd: str, notebooks: list[str]) -> WarmKernel:
    """This worker's warm kernel, started (or replaced, when the last one died) as needed."""
    global _KERNEL
    if _KERNEL is not None and (_KERNEL.cwd != cwd or not _KERNEL.alive()):
        _KERNEL.stop()
        _KERNEL = None
    if _KERNEL is None:
        _KERNEL = WarmKernel(cwd, preload(notebooks))
        from multiprocessing import util

        util.Finalize(_KERNEL, _KERNEL.stop, exitpriority=10)  # the worker's end ends its kernel
    return _KERNEL


def current() -> WarmKernel | None:
    """This worker's kernel, if it has one."""
    return _KERNEL


def drop() -> None:
    """Stop and forget this worker's kernel (after a page that may have left it broken)."""
    global _KERNEL
    if _KERNEL is not None:
        _KERNEL.stop()
        _KERNEL = None
