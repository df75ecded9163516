"""Evaluation of the assistant apart from serving it: what measures the assistant, never what serves it.

* :mod:`evaluation.simulation`: simulated customers, the baselines they are compared with, the
  measures of a run (SR@N, turns, coverage, novelty) and the reading of Rasa's REST replies;
* :mod:`evaluation.conversations`: whole shopper conversations played and checked turn by turn;
* :mod:`evaluation.stack` and :mod:`evaluation.production_stack`: the embedded stack and the production
  path (PostgreSQL, Redis, RabbitMQ, the gateway) on loopback, launched for the end-to-end tests and
  the benchmarks alike.

Nothing here imports Rasa, the action server or the tests; :mod:`evaluation.conversations` needs only
a function that sends one message and returns the bot's REST reply messages. Serving code
(``actions/``, ``web/``, ``retrieval/``, ``store/``) never imports this package.
"""
