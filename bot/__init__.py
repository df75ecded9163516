"""The Rasa assistant: its domain and endpoints (YAML beside this file), the gateway, and the
two modules of ours that the Rasa server loads.

``bot.rasa_components`` (the NLU components that config.yml names) and ``bot.rasa_speedups``
run inside the Rasa environment (.venv-rasa, Python 3.10), where scripts/setup.sh puts the
repository on ``sys.path`` with a ``.pth`` file; nothing here imports our other packages.
"""
