"""Writing files that hold a secret (keys, tokens, generated VPN configs).

Standard library only: the gateway agent uses it on hosts without Django.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with a 0600 file holding ``text``.

    mkstemp creates the file 0600 from the start, so the secret is never
    readable by others even for a moment; os.replace swaps it in whole, so a
    reader (or a crash) never sees half a file, and a symlink planted at
    ``path`` is replaced rather than followed.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
