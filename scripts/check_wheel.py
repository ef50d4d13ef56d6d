"""Build the wheel (the lab extension is already built) and check it ships both extensions."""

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REQUIRED = (
    "share/jupyter/labextensions/jupyter-revive/package.json",
    "share/jupyter/labextensions/jupyter-revive/schemas/jupyter-revive/plugin.json",
    "share/jupyter/labextensions/jupyter-revive/install.json",
    "etc/jupyter/jupyter_server_config.d/jupyter_revive.json",
    "jupyter_revive/kernel_manager/jupyter_revive_tracker/__init__.py",
    "jupyter_revive/events/context.yaml",
)

with tempfile.TemporaryDirectory() as out:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            out,
            ".",
        ],
        check=True,
    )
    (wheel,) = Path(out).glob("jupyter_revive-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    missing = [r for r in REQUIRED if not any(n.endswith(r) for n in names)]
    if missing:
        sys.exit(f"wheel {wheel.name} lacks: {', '.join(missing)}")
    print(f"{wheel.name}: {len(names)} files, lab and server extension included")
