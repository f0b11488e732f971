"""``python -m scheduler`` runs the duban command line."""

import sys

from scheduler.cli import main

sys.exit(main())
