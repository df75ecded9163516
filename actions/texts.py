"""What the actions say, in one place.

Responses the dialogue policies predict live in ``bot/domain``; these are the
sentences actions choose at run time (Rasa's validator flags domain responses
that no story or rule uses, so they are kept here instead).
"""

from __future__ import annotations

HERE_ARE_SOME = "Here are a few things you might like:"
NOTHING_FOUND = "I couldn't find anything for that. Could you describe it differently?"
RECOMMENDATION_FAILED = (
    "Sorry, something went wrong while I was looking through the shelves. Please try again in a moment."
)
