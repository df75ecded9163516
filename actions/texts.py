"""What the actions say, in one place.

Responses that the dialogue policies predict live in ``bot/domain``; these are
the sentences actions choose at run time (Rasa's validator flags domain
responses that no story or rule uses, so they are kept here instead).
"""

from __future__ import annotations

GREETING = (
    "Hello! I'm the Shopkeeper. Tell me what you're looking for — for example \"a grey sofa under $800 "
    "for a small flat\" — and I'll suggest a few things."
)
WELCOME_BACK = "Welcome back! Still looking for {article} {thing}?"
HERE_ARE_SOME = "Here are a few things you might like:"
HERE_ARE_MORE = "Here are some more:"
REFINED = "Taking that into account, how about these?"
MORE_LIKE = "Here are some similar to the {title}:"
SURPRISE = "Something off your usual path — tell me if any of these click:"
SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on my side. Please try again in a moment, or say \"talk to a human\"."
)

ASK_CATEGORY = "What are you shopping for today?"
ASK_BUDGET = "What's your budget{for_category}? For example \"under {example}\" — or say \"no budget\"."
ASK_ATTRIBUTE = {
    "colour": "Any colour you have in mind?",
    "material": "Any preferred material?",
    "style": "What style do you like?",
    "use": "Who or what is it for?",
}
DONT_MIND = "I don't mind"
ASK_KIND = "Which kind — {options}?"
ANY_KIND = "Any of these"
UNKNOWN_CATEGORY = "Sorry, we don't carry \"{value}\". We have: {options}."
UNKNOWN_KIND_FOR_USE = "What kind of thing would you like for {value}? We have: {options}."
UNKNOWN_VALUE = "I don't know {value!r} as a {attribute} here. For example: {options}."
UNUSABLE_BUDGET = (
    "Sorry, I didn't get a budget from \"{value}\". Try something like \"under 500\", \"between 200 and 300\" "
    "or \"no budget\"."
)

WHICH_ITEM = "Which one do you mean? You can say \"the first\", \"the second\" or name it."
NOTHING_SHOWN = "I haven't shown you anything yet — tell me what you're looking for."
NOTED_LIKE = "Glad you like the {title}!"
NOTED_DISLIKE = "Got it, I won't show you the {title} again."
ASK_SENTIMENT = "Tell me what you think of them: 👍 or 👎 on a card, or say \"I like the first one\"."
CHEAPER = "Let's look under {price}."
PRICIER = "Let's look at options above {price}."
BIGGER = "Let's look at bigger ones."
SMALLER = "Let's look at more compact ones."
DIFFERENT = "Let's try other {attribute}s than {values}."
DIFFERENT_TO = "Let's look at {value} ones."

# -- the shopping conversation (actions/conversation.py) -------------------------------------------------------
ALL_THAT_FITS = "That's everything I have that fits right now."
SEEN_EVERYTHING = "That's everything I have in {need}: you've seen it all."
BEST_OF_ALL = "That's everything I have in {need}; these are the best of them:"
NOTHING_FITS = "I have nothing that fits all of that: no {need}."
OFFER_RELAX = "I do have {count} {kind} {phrase} — shall I show them?"
WHAT_TO_CHANGE = "Want to change something — the budget, a detail, or the kind of product?"
KEEP_IT = "Okay, I'll keep that as it is. What would you like to change instead?"
#: After "No" to "does it come in white?": the same kind in that value, offered, never imposed.
OFFER_ANOTHER = "Shall I show you {kind} in {value}?"
#: "No" to that offer: the list stays as it is.
KEEP_THESE = "Okay, these stay as they are. Ask me anything about them."
NOT_THESE = "Okay, not those."
STARTER = "Here are a few popular things to start with:"
CLOSEST = "I'm not sure which kind of thing you mean, but these come closest:"
OR_TELL_ME = "Or tell me what you're looking for:"
NONE_OF_THE_KIND_IN = "We don't have {kind} in {value}, I'm afraid."
CLOSEST_IN = "The closest things we have in {value}:"
DIFFERENT_ANY = "Let's look at other {attribute}s."
DIFFERENT_WORDS = "Let's look for ones that fit “{words}”."
NOTHING_CHEAPER = "I have nothing cheaper than the {title} in {need}."
CHEAPEST_ELSEWHERE = "Without the details you asked for, the cheapest is the {title} ({price})."
CLOSE_MATCH = "a close match for what you described"
START_OVER = "Sure, let's start again. What are you looking for?"
MEANWHILE = "I'm not sure what you meant, but here are more of what you were looking at:"
OFFER_HUMAN = "Or I can hand you over to a colleague."
HUMAN = "Talk to a human"
STILL_UNCLEAR = (
    "Sorry, I still didn't get that. Pick a kind of product below, describe what you need in a few words, "
    "or talk to a colleague."
)

CONSENT_QUESTION = (
    "May I remember what you like (categories, colours, budget) for your next visit? "
    "You can ask what I know or tell me to forget you at any time."
)
CONSENT_YES = "Thanks — I'll remember your preferences. Say \"forget me\" any time to erase them."
CONSENT_NO = "No problem — I'll only use what you tell me in this conversation."
YES = "Yes"
NO = "No"

WHY = "Why the {title}: {reason}."
COMPARE_INTRO = "{first} vs {second}:"
COMPARE_SAME = "Both are {value} in {attribute}."
COMPARE_SAYS = "• what the {title}'s description says to that: “{sentence}”"
COMPARE_SAYS_NOTHING = "• the {title}'s description says nothing to that"
DECIDE_PICK = "My pick: the {title} — {reason}."
DECIDE_CHEAPER = "To spend less: the {title}, {amount} cheaper{trade_off}."
DECIDE_DEARER = "For more: the {title}, {amount} more{trade_off}."
RATED_AGAINST = "rated {rating} against {against}"
NOT_THAT = "{value} rather than {against}"
NEED_TWO = "Which two should I compare? Say, for example, \"compare 1 and 2\"."

#: Answers to a question about an item (retrieval/answers.py finds the fact; these say it).
ANSWER_FIELD = "The {title}: {fact}."
ANSWER_FIELD_SETTLES = "{says} — {fact} (the {title})."
ANSWER_SENTENCE = "The description of the {title} says: “{sentence}”"
ANSWER_SENTENCE_SETTLES = "{says} — the description of the {title} says: “{sentence}”"
ANSWER_UNKNOWN = "The description of the {title} doesn't say, I'm afraid."
#: Answers to a question about the catalog as a whole (retrieval/facets.py): how many, which values, what prices.
FACET_COUNT = "We have {count} {need}."
FACET_PRICES = "Our {need} run from {low} to {high} ({count} of them)."
FACET_ONE_PRICE = "Our {need} are all {low} ({count} of them)."
FACET_VALUES = {
    "brand": "Our {need} come from {count} brand{plural}: {values}.",
    "colour": "Our {need} come in {count} colour{plural}: {values}.",
    "material": "Our {need} are made of {count} material{plural}: {values}.",
    "size": "Our {need} come in {count} size{plural}: {values}.",
}
FACET_OUT_OF_STOCK = "({count} more are out of stock.)"
FACET_MORE = " and {more} more"
FACET_NOT_SAID = "({count} don't say their {field}.)"
FACET_UNKNOWN = "The catalog doesn't give the {field} of our {need}, I'm afraid."
FACET_BEST = "The best of them:"
#: What other customers take with an item (retrieval/collaborative.py).
COMPLEMENTS = "Customers who bought the {title} also bought:"
NO_COMPLEMENTS = "I don't know yet what customers buy with the {title}: too few have bought it here."
BOUGHT_WITH = "{count} customers who bought the {title} also bought this"
#: Reasons on the cards of an ordered list: the first card's when it is the shop's own first of the kind, the
#: others', and the first card's when it is the first of what fits the customer's limits.
ORDER_REASONS = {
    "cheapest": ("our cheapest {kind}, at {price}", "next cheapest, at {price}",
                 "the cheapest that fits what you asked, at {price}"),
    "priciest": ("our most expensive {kind}, at {price}", "next most expensive, at {price}",
                 "the most expensive that fits what you asked, at {price}"),
    "best_rated": ("our best-rated {kind}: {rating}", "next best-rated: {rating}",
                   "the best-rated that fits what you asked: {rating}"),
    "most_reviewed": ("our most-reviewed {kind}: {count} ratings", "next most-reviewed: {count} ratings",
                      "the most-reviewed that fits what you asked: {count} ratings"),
    "popular": ("our most popular {kind}: bought by {bought} customers", "next most popular: bought by {bought}",
                "the most popular that fits what you asked: bought by {bought} customers"),
}
CHOSEN = "Great choice! The {title} is {price}. You can order it here: {url}"
ASK_SATISFIED = "Did that solve what you were looking for?"
SATISFIED = "Wonderful — enjoy it! Anything else?"
NOT_SATISFIED = "Sorry to hear that. Tell me what's missing and I'll keep looking, or say \"talk to a human\"."
NOTHING_PENDING_YES = "Okay! What would you like to look at?"
NOTHING_PENDING_NO = "Okay. Anything else I can help you find?"

PROFILE_NOTHING = "I don't know anything about you beyond this conversation."
PROFILE_NO_CONSENT = "You asked me not to remember you, so I keep nothing beyond this conversation."
PROFILE_INTRO = "Here's what I remember about you:"
PROFILE_PERSONALISATION_OFF = "Personalisation is switched off, so none of this changes what I show you."
PROFILE_HINT = "Say \"forget me\" to erase it, or \"stop personalising\" to keep it but not use it."
FORGOTTEN = (
    "Done — I've erased your profile, your feedback and this conversation. If you come back, I'll start fresh."
)
PERSONALISATION_OFF = "Okay, I've switched personalisation off: I'll rank items the same for everyone."
PERSONALISATION_ON = "Personalisation is back on: I'll use what you like to rank items."

HANDOFF = (
    "I've flagged this conversation for a colleague from our support team; they'll read it and get back to "
    "you here. Is there anything I can do meanwhile?"
)
REPHRASE = "Sorry, I'm not sure I understood. Did you mean one of these?"
OUT_OF_SCOPE = ("That's outside what I can help with, I'm afraid — I'm here to help you find things in this shop. "
                "What are you looking for?")
REPHRASE_OPTIONS = {
    "request_recommendation": "Find me something",
    "inform": "Update what I'm looking for",
    "like": "I like one of these",
    "dislike": "I don't like one of these",
    "critique_cheaper": "Something cheaper",
    "show_more": "Show more",
    "ask_why": "Why these?",
    "compare": "Compare two items",
    "choose_item": "I'll take one",
    "ask_profile": "What do you know about me?",
    "forget_me": "Forget me",
    "human_handoff": "Talk to a human",
    "shop_service": "A question about an order",
}

DATA_EXPORT = (
    "Here is a copy of everything I have stored about you: your consent choices, your profile if you let me "
    "keep one, what you liked or chose, and this conversation, as one JSON file."
)
DATA_EXPORT_BUTTON = "Download my data"
