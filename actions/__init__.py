"""The rasa-sdk action server: one module per conversation concern.

Actions stay thin: they read slots, call a service from :mod:`actions.services`,
utter and return events. Ranking, parsing and storage live in ``retrieval``
and ``store`` and never import ``rasa_sdk``.
"""
