"""Evaluation of the assistant apart from serving it: whole conversations played and checked turn by turn.

Nothing here imports Rasa, the action server or the tests; :mod:`evaluation.conversations` needs only
a function that sends one message and returns the bot's REST reply messages.
"""
