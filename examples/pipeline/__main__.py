"""`python -m pipeline`: run the demo pipeline over the bundled feed (or PIPELINE_FEED_URL)."""

from __future__ import annotations

import logging
import os
import sys

from pipeline.runner import run
from pipeline.settings import Settings


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("PIPELINE_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return run(Settings.from_env(), sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
