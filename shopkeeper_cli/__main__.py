"""``python -m shopkeeper_cli``: the ``shopkeeper`` command without the installed script."""

from __future__ import annotations

import sys

from shopkeeper_cli.main import main

sys.exit(main())
