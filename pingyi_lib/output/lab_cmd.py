"""``pingyi lab [DIR] [--no-browser] [--port N]``: JupyterLab on the notebooks that ship with
pingyi, for an analyst who installed the package (no checkout). ``cli.py`` only wires this in.

The bundled notebooks (explore, city, unit) are copied into DIR (default ``./notebooks``);
a copy the analyst edited is never overwritten: ``DIR/.pingyi-notebooks.json`` records what
each copy was when pingyi wrote it, so a copy still as written is brought up to date after an
upgrade and an edited one is kept (and named). JupyterLab then starts in DIR with what would
reach the internet turned off (the news feed and its prompt, the update check, the
extension manager's PyPI lookups): an offline intranet is never asked to fetch anything.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pingyi_lib.common.errors import OptionError
from pingyi_lib.output.manifest import file_hash
from pingyi_lib.output.packaged import NOTEBOOKS, notebook_dir

RECORD = ".pingyi-notebooks.json"
SETTINGS = ".pingyi-lab"  # JupyterLab's app settings for this folder: its own, with the news prompt off
NO_NEWS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}
# JupyterLab settings that would make the browser or the server reach the internet
OFFLINE = ("--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly")


def add_parser(sub) -> None:
    sp = sub.add_parser("lab", help="copy the notebooks that ship with pingyi into DIR and open JupyterLab there "
                                    "(offline: no news, no update checks)")
    sp.add_argument("dir", metavar="DIR", nargs="?", default="notebooks",
                    help="folder for the notebooks (default: ./notebooks; created)")
    sp.add_argument("--no-browser", action="store_true", help="do not open a browser (on a server: open the "
                                                              "printed address from your PC)")
    sp.add_argument("--port", type=int, default=None, metavar="N", help="port (default: JupyterLab's, 8888 or the "
                                                                        "next free one)")
    sp.add_argument("--ip", default=None, metavar="ADDR", help="address to listen on (default: localhost; "
                                                               "0.0.0.0 on a server others reach)")
    sp.set_defaults(func=cmd_lab)


@dataclass
class Copied:
    written: list[str] = field(default_factory=list)  # new, or brought up to date
    same: list[str] = field(default_factory=list)  # already the bundled version
    kept: list[str] = field(default_factory=list)  # edited by the analyst: left alone


def copy_notebooks(folder: str | Path, source: Path | None = None) -> Copied:
    """Copy the bundled notebooks into ``folder`` without overwriting one the analyst edited."""
    folder, source = Path(folder), source or notebook_dir()
    if folder.exists() and not folder.is_dir():
        raise OptionError(f"{folder} 是一个文件，不是文件夹；请给出放笔记本的文件夹")
    folder.mkdir(parents=True, exist_ok=True)
    record_path = folder / RECORD
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    done = Copied()
    for name in NOTEBOOKS:
        new, have = file_hash(source / name), folder / name
        if have.is_file():
            now = file_hash(have)
            if now == new:
                done.same.append(name)
                record[name] = new
                continue
            if record.get(name) != now:  # not what pingyi wrote: the analyst's
                done.kept.append(name)
                continue
        shutil.copyfile(source / name, have)
        record[name] = new
        done.written.append(name)
    record_path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return done


def offline_settings(folder: Path) -> Path:
    """An app settings folder for JupyterLab in ``folder``: the installation's own settings
    (if it has any) with the news feed and the update check set to *never* by default, so
    JupyterLab does not ask whether to fetch news (the server refuses to fetch it anyway).
    An analyst's own user settings still win."""
    from jupyterlab.commands import get_app_dir

    ours = folder / SETTINGS
    ours.mkdir(exist_ok=True)
    installed = Path(get_app_dir()) / "settings"
    overrides: dict = {}
    if installed.is_dir():
        for f in installed.glob("*.json"):
            if f.name == "overrides.json":
                try:
                    overrides = json.loads(f.read_text(encoding="utf-8"))
                except ValueError:
                    overrides = {}
            else:
                shutil.copyfile(f, ours / f.name)
    for plugin, values in NO_NEWS.items():
        overrides[plugin] = {**overrides.get(plugin, {}), **values}
    (ours / "overrides.json").write_text(json.dumps(overrides, indent=2) + "\n", encoding="utf-8")
    return ours


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_command(folder: Path, *, no_browser: bool, port: int | None, ip: str | None) -> list[str]:
    """The JupyterLab command line: served from ``folder``, offline, as root when root."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}", *OFFLINE,
           f"--LabApp.app_settings_dir={offline_settings(folder)}"]
    if no_browser:
        cmd.append("--no-browser")
    if port is not None:
        cmd.append(f"--port={port}")
    if ip:
        cmd.append(f"--ip={ip}")
    if _as_root():
        cmd.append("--allow-root")  # Jupyter refuses to start as root without it
    return cmd


def cmd_lab(args) -> int:
    folder = Path(args.dir).resolve()
    done = copy_notebooks(folder)
    if done.written:
        print(f"已复制笔记本到 {folder}：{'、'.join(done.written)}", file=sys.stderr)
    if done.kept:
        print(f"保留了你改过的笔记本（未覆盖）：{'、'.join(done.kept)}；要换回随 pingyi 发布的版本，删除它后再运行 "
              "pingyi lab", file=sys.stderr)
    if _as_root():
        print("注意：以 root 身份运行，JupyterLab 以 --allow-root 启动", file=sys.stderr)
    print("先打开 explore.ipynb，运行全部单元格（Run → Run All Cells）。按 Ctrl-C 停止 JupyterLab。", file=sys.stderr)
    cmd = lab_command(folder, no_browser=args.no_browser, port=args.port, ip=args.ip)
    sys.stderr.flush()
    if os.name == "posix":  # JupyterLab takes this process's place: Ctrl-C and kill reach it directly
        os.chdir(folder)
        os.execv(cmd[0], cmd)
    try:
        return subprocess.call(cmd, cwd=folder)
    except KeyboardInterrupt:
        return 0
