"""``python -m podcast_kg_otel``: the ``podcast-kg-otel`` command."""

import sys

from podcast_kg_otel.cli import main

sys.exit(main())
