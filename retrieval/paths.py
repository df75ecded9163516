"""Where the checkout is: the one place the project root is computed.

Every layer finds files of the repository (``build/``, ``data/``, ``bot/domain``, the Rasa
environment) from here, so moving a module never silently moves what it reads::

    PROJECT_ROOT / "build" / "shopkeeper.db"

The root is the folder holding ``pyproject.toml``, one above this package: the project runs
from its checkout (``pip install -e .``), whose ``build/``, ``models/`` and ``data/`` it reads
and writes. Like :mod:`retrieval.contract`, this module imports nothing but the standard
library, so the data layer, the web app, the evaluation and the benchmarks can use it without
loading NumPy or FAISS.

Code that runs where the project is not importable does without it: what runs inside the
Rasa environment (``bot/rasa_components.py``, ``bot/rasa_speedups.py``,
``benchmarks/rasa_probe.py``) reads paths relative to the folder Rasa runs in, the root; the
shell scripts in ``scripts/`` ``cd`` to their parent folder; ``data/catalog/generate.py``, run
with any Python 3, writes beside itself.

>>> (PROJECT_ROOT / "pyproject.toml").is_file()
True
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PROJECT_ROOT"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
