"""Boot Debian's User-mode Linux once, with the host's / as root, to run a test scenario.

The host kernel of the development machines has no ESP, PPP or L2TP and cannot load
modules; a UML kernel running as an ordinary process has them all as modules (see
../shared/notes/l2tp-ipsec-test.md). The test prepares a work directory, ``boot()``
runs ``init.sh`` as PID 1 with the scenario script, and the test reads back what the
scenario wrote there. Nothing is left behind: the work directory (which also holds
``uml_dir``) is the caller's temp dir, every host process the boot started is ended
by its PID, and init powers off with ``--no-wtmp``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.e2e import missing, require_tools

HERE = Path(__file__).resolve().parent
UML_MODULES = Path("/usr/lib/uml/modules")


# What the UML kernel prints when it lost one of its host processes. Seen rarely on
# AVX-512 hosts: a nested signal overflows the one-page signal stack of UML 6.1's
# per-process stub (the host logs "overflowed sigaltstack"); the guest process dies.
CRASH_MARKERS = (
    "Kernel panic",
    "ptrace set regs failed",
    "ptrace set fp regs failed",
    "wait_stub_done",
)


@dataclass(frozen=True)
class Boot:
    console: str
    seconds: float
    status: int | None  # the scenario's exit status; None when it never finished
    crashed: bool  # UML itself failed (CRASH_MARKERS): a reason to boot again


def uml_kernel() -> str:
    return require_tools("linux.uml")["linux.uml"]


def modules_version() -> str:
    versions = sorted(p.name for p in UML_MODULES.iterdir()) if UML_MODULES.is_dir() else []
    if not versions:
        missing(f"no User-mode Linux modules under {UML_MODULES}")
    return versions[-1]


def prepare_modules(work: Path) -> Path:
    """A private module root for ``modprobe -d``: <work>/modroot/lib/modules/<ver>."""
    version = modules_version()
    root = work / "modroot"
    (root / "lib" / "modules").mkdir(parents=True)
    (root / "lib" / "modules" / version).symlink_to(UML_MODULES / version)
    return root


# CPU features whose registers make the host's XSAVE area larger than UML 6.1's buffer.
LARGE_XSAVE_FLAGS = {"avx512f", "pku", "ospke", "amx_tile", "apx"}


def needs_xstate_shim() -> bool:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return True
    flags = {
        flag
        for line in cpuinfo.splitlines()
        if line.startswith("flags")
        for flag in line.split(":", 1)[1].split()
    }
    return bool(flags & LARGE_XSAVE_FLAGS)


def build_xstate_shim(work: Path) -> Path | None:
    """Compile xstate_shim.c when this CPU needs it (see there: UML 6.1 and XSAVE)."""
    if not needs_xstate_shim():
        return None
    cc = require_tools("cc")["cc"]
    target = work / "xstate_shim.so"
    subprocess.run(
        [cc, "-O2", "-shared", "-fPIC", "-o", str(target), str(HERE / "xstate_shim.c"), "-ldl"],
        check=True,
        capture_output=True,
    )
    return target


def boot(work: Path, scenario: Path, *, modules: list[str], timeout: float) -> Boot:
    """Boot UML once with ``scenario`` run by init.sh; return its console and timing."""
    kernel = uml_kernel()
    prepare_modules(work)
    shim = build_xstate_shim(work)
    uml_dir = work / "uml"
    uml_dir.mkdir()
    command = [
        kernel,
        "mem=768M",
        "rootfstype=hostfs",
        "rootflags=/",
        "rw",
        f"init={HERE / 'init.sh'}",
        "con0=fd:0,fd:1",
        "con=null",
        "ssl=null",
        f"uml_dir={uml_dir}",
        f"uml_work={work}",
        f"uml_repo={HERE.parent.parent}",
        f"uml_scenario={scenario}",
        f"uml_modules={','.join(modules)}",
    ]
    # UML backs its memory with an unlinked file in /dev/shm: nothing to clean up.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if shim:
        env["LD_PRELOAD"] = str(shim)
    console_path = work / "console.log"
    started = time.monotonic()
    with open(console_path, "wb") as console:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        crashed = False
        try:
            # A crashed UML keeps running with the scenario stuck on a dead daemon:
            # watch the console and stop it at once rather than at the timeout.
            while process.poll() is None and time.monotonic() - started < timeout:
                time.sleep(0.5)
                if _crashed(console_path):
                    crashed = True
                    break
        finally:
            _end(process)
    seconds = time.monotonic() - started
    status_file = work / "scenario.status"
    status = int(status_file.read_text()) if status_file.exists() else None
    console_text = console_path.read_text(errors="replace")
    crashed = crashed or any(marker in console_text for marker in CRASH_MARKERS)
    return Boot(console=console_text, seconds=seconds, status=status, crashed=crashed)


def _crashed(console: Path) -> bool:
    text = console.read_text(errors="replace")
    return any(marker in text for marker in CRASH_MARKERS)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def _end(process: subprocess.Popen) -> None:
    """End the UML kernel and the host processes it made (one per UML address space)."""
    if process.poll() is not None:
        return
    # The helpers first, while the kernel still holds their PIDs (they are its
    # children, so no other process can have taken one of those numbers).
    for pid in _descendants(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.kill()
    process.wait()
