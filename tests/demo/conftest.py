"""Makes the demo pipeline (examples/pipeline) importable, as `python -m pipeline` sees it."""

from __future__ import annotations

import sys

from stacktools.stack import REPO_ROOT

EXAMPLES = str(REPO_ROOT / "examples")
if EXAMPLES not in sys.path:
    sys.path.insert(0, EXAMPLES)
