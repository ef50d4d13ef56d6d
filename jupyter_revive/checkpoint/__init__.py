"""Server side of checkpoints: the per-user signing key and signed manifests.

The kernel writes a checkpoint's files and reports their SHA-256 (``jupyter_revive_tracker
.checkpoint``); the server signs a manifest of those hashes with a key the kernel, the browser
and the notebook never see, and on load verifies the signature before it hands the kernel the
hashes to check each file against.
"""

from .keys import KEY_FILE, KeyUnusable, signing_key
from .manifest import CheckpointRefused, sign, verify
from .shutdown import ShutdownCheckpoints
from .store import ReviveCheckpoints

__all__ = [
    "KEY_FILE",
    "CheckpointRefused",
    "KeyUnusable",
    "ReviveCheckpoints",
    "ShutdownCheckpoints",
    "sign",
    "signing_key",
    "verify",
]
