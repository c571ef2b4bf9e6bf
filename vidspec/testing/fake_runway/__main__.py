"""``python -m vidspec.testing.fake_runway``: serve the fake until SIGTERM (see process.main)."""

from __future__ import annotations

import sys

from vidspec.testing.fake_runway.process import main

if __name__ == "__main__":
    sys.exit(main())
