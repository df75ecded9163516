"""The catalog as the conversation model asks about it (:class:`actions.conversation.Shop`).

One adapter over the recommender, the filter table and the catalog's vocabulary: it turns a
:class:`~actions.conversation.Need` into hard filters, counts and ranks what passes them, and
words the questions. No Rasa import, so the conversation model's tests run on it directly
with a small catalog and the hashing encoder.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from actions import texts
from actions.conversation import ITEMS_PER_TURN, Need
from actions.off_topic import OffTopic
from actions.parsing import without_budget
from retrieval.answers import Answer, ItemAnswers, catalog_values
from retrieval.catalog import Product
from retrieval.collaborative import CollaborativeModel
from retrieval.contract import ASKED_ATTRIBUTES, AUDIENCE, NAMED_ATTRIBUTES, affinity_key, taught_attributes
from retrieval.explain import format_price
from retrieval.facets import Facet, facet_of
from retrieval.filters import Filters
from retrieval.questions import answer_entropy, best_question
from retrieval.recommender import SOFT_ATTRIBUTES, Needs, Preferences, Recommender, Scored
from retrieval.vocabulary import CatalogVocabulary
from store.profiles import ProfileSnapshot

__all__ = ["ATTRIBUTE_QUESTIONS", "HARD_WISHES", "MAX_QUESTIONS", "CatalogShop", "shopper_round", "size_number"]

#: Questions about the details (budget, attributes) before the first list, at most.
MAX_QUESTIONS = 2
#: Stop asking once this few candidates fit.
ENOUGH_CANDIDATES = 6
#: A scope of several categories is worth a "which kind?" question when its candidates split at least this well.
KIND_MIN_BITS = 0.8
#: Attributes the needs questions may ask about.
ATTRIBUTE_QUESTIONS: tuple[str, ...] = ASKED_ATTRIBUTES
#: Wished values that filter; a wished use ("for a small flat") only ranks, since uses are loosely worded.
#: Whom the item is for ("men's", "for my daughter") filters too, by ruling out the items the catalog says
#: are for others: an item that does not say stays (:meth:`CatalogShop.filters`).
HARD_WISHES: tuple[str, ...] = NAMED_ATTRIBUTES
#: A wished colour, material, style or brand filters only where the catalog gives it for at least this share
#: of the need's candidates; below (colours read from a few titles), it ranks the items that have it first,
#: so that the one black pair of sunglasses described as black does not hide the others.
HARD_WISH_MIN_KNOWN = 0.5
#: Category buttons offered, at most.
MAX_CATEGORY_OPTIONS = 12
#: Relative budgets resolve to these price quantiles of the candidates.
RELATIVE_BUDGETS = {"cheap": (None, 0.33), "mid": (0.33, 0.66), "premium": (0.66, None)}
#: Words that name no kind of product, left out before a scope is searched for ("just show me something").
_NO_KIND = frozenset((
    "a", "an", "and", "any", "anything", "are", "buy", "can", "could", "do", "find", "for", "get", "give", "got",
    "have", "hello", "help", "hey", "hi", "i", "i'd", "i'm", "id", "im", "is", "it", "just", "like", "looking",
    "look", "me", "my", "need", "needs", "now", "pls", "please", "plz", "recommend", "see", "show", "some",
    "something", "stuff", "suggest", "the", "thing", "things", "to", "u", "want", "wanted", "would", "you",
    "don't", "dont", "not", "mind", "care", "whatever", "whatevs", "really", "surprise",
))
#: "nuts about", "crazy for", "obsessed with": how much someone likes a thing, no words of it ("Nuts" is a game).
_FONDNESS = re.compile(r"\b(?:(?:they|he|she|i|we)(?:'re|'s|'m| are| is| am)\s+|(?:is|are)\s+)?"
                       r"(?:totally\s+|really\s+|so\s+)?"
                       r"(?:nuts|crazy|mad|bonkers|obsessed|potty|gaga|wild)\s+(?:about|over|for|with)\b")
#: Searching for a scope: this many best matches vote for their categories, weighted by rank ...
SCOPE_VOTERS = 10
#: ... and a category joins the scope with at least this share of the votes (at most SCOPE_MAX of them).
SCOPE_SHARE = 0.2
SCOPE_MAX = 3
#: When no category has this share of the votes, the category of each of the first few matches that scores at least
#: ``SCOPE_NEAR_SHARE`` of the first (fused) joins too: where the best matches of loose words fall in different
#: kinds and none has a majority, a vote count should not pick one alone.
SCOPE_MAJORITY = 0.5
SCOPE_NEAR_RANKS = 3
SCOPE_NEAR_SHARE = 0.8
#: A message that shares a word with the catalog ("heels", "football") is close enough at this share of
#: the encoder's ``related_similarity``: terse titles ("Pampi Shoes") sit far from any sentence.
SCOPE_SHARED_WORD = 0.75
#: Words that name no kind (a request, or a message the NLU could not place — never one it took for small
#: talk) get the search's best matches when a word of theirs, as typed, is the catalog's and the best is at
#: least this share of the encoder's ``related_similarity``: below the bar of a scope, since the answer
#: says it is unsure and offers the categories.
CLOSEST_SHARE = 0.5
#: Words none of which the catalog uses, as typed ("over ear hedphones" where the shop says earphones, "to sit
#: in during long meetings"), get them only from this share of ``related_similarity`` on the typed words: below
#: it MiniLM cannot tell them from keyboard noise ("asdfgh" 0.25 and "a spaceship" 0.26 on DummyJSON's titles).
CLOSEST_UNSHARED_SHARE = 0.75
#: A kind a word named gives room to the category of the best match for the whole message when that match is
#: this much closer than anything of the named kind (MiniLM cosine).
CLOSER_KIND_MARGIN = 0.1
#: Words a catalog may well use that say nothing of what is wanted.
_NOT_TELLING = frozenset(("the", "and", "for", "with", "from", "this", "that", "your", "our", "new", "all", "one",
                          "get", "set", "pack", "piece", "size", "best", "good", "great", "nice", "time", "day"))


def shopper_round(amount: float) -> float:
    """A price as a shopper would say it: whole, and two significant figures from 10.

    Groceries at $2 are "under $2", not "under $0" (rounding to tens did that).

    >>> shopper_round(2.34), shopper_round(0.4), shopper_round(17.4), shopper_round(234.0), shopper_round(7449.0)
    (2.0, 1.0, 17.0, 230.0, 7400.0)
    """
    if amount <= 0:
        return 0.0
    if amount < 10:
        return float(max(1, round(amount)))
    return float(round(amount, 1 - int(np.floor(np.log10(amount)))))


def size_number(size: str | None) -> float | None:
    """A comparable size: the largest number in the size text, or ``None``.

    >>> size_number("3-seater, 210 cm"), size_number("Corner, 280x200 cm"), size_number("one size")
    (210.0, 280.0, None)
    """
    if not size:
        return None
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", size)]
    return max(numbers) if numbers else None


#: Ratings a "best rated" item's average is shrunk with, towards the catalog's mean.
RATING_PRIOR = 5
#: Closest items put in order when a superlative names no kind ("the cheapest thing for hiking").
ORDERED_POOL = 30


def order_reason(order: str, product: Product, rank: int, kind: str, *, ours: bool, bought: int = 0) -> str:
    """Why an item is where it is in an ordered list ("our cheapest desk, at $119.50").

    "Our" only when ``ours``: no item of the kind at all comes before it; otherwise it is the first of what
    fits the customer's limits.
    """
    price = format_price(product.price, product.currency)
    rating = f"rated {product.rating:.1f}/5 by {product.rating_count}" if product.rating is not None else "not rated"
    said = texts.ORDER_REASONS[order]
    template = said[1] if rank > 1 else said[0] if ours else said[2]
    return template.format(kind=kind or "items", price=price, rating=rating, count=product.rating_count,
                           bought=bought)


class CatalogShop:
    """A :class:`~actions.conversation.Shop` over one catalog, for one customer.

    Args:
        recommender: the catalog's recommender.
        vocabulary: the catalog's words (category names, attribute values).
        snapshot: the customer's stored profile, or ``None`` (nothing stored).
        personalised: whether this customer's ranking may be personalised at all
            (personalisation switched on, and the experiment's variant allows it).
        off_topic: the NLU's known off-topic talk, or ``None``.
        answers: answers questions about items; ``None`` makes one over the retriever's encoder.
        collaborative: what customers take together (``shopkeeper interactions build``), or ``None``
            for a shop with no interaction data.
    """

    def __init__(self, recommender: Recommender, vocabulary: CatalogVocabulary,
                 snapshot: ProfileSnapshot | None = None, *, personalised: bool = True,
                 off_topic: OffTopic | None = None, answers: ItemAnswers | None = None,
                 collaborative: CollaborativeModel | None = None) -> None:
        self.recommender = recommender
        self.collaborative = collaborative
        self._answers = answers
        self._off_topic = off_topic
        self.vocabulary = vocabulary
        self.catalog = recommender.catalog
        self.currency = self.catalog.currency
        self._snapshot = snapshot
        self._personalised = personalised and (snapshot is None or snapshot.personalisation)
        self._table = recommender.retriever.filter_table
        self._prices = np.array([p.price for p in self.catalog], dtype=np.float64)
        self._pointed: dict[tuple[str, bytes], Product | None] = {}

    # -- constraints ---------------------------------------------------------------------------------

    @staticmethod
    def price_range(need: Need) -> tuple[float | None, float | None]:
        """The tightest price bounds of the stated budget and the critiques (may be empty: low > high)."""
        low = max((b for b in (need.budget_min, need.price_floor) if b is not None), default=None)
        high = min((b for b in (need.budget_max, need.price_cap) if b is not None), default=None)
        return low, high

    def filters(self, need: Need, exclude: Sequence[str] = ()) -> Filters:
        """The need's hard constraints (an empty price range keeps only its ceiling; :meth:`count` sees it)."""
        low, high = self.price_range(need)
        if low is not None and high is not None and low > high:
            low = None
        avoid: dict[str, set[str]] = {}
        for attribute, value in need.avoid:
            avoid.setdefault(attribute, set()).update(self.vocabulary.covers(attribute, value))
        if need.wishes.get(AUDIENCE):  # "for my son": not the items for women, men or girls alone
            suited = self.vocabulary.covers(AUDIENCE, need.wishes[AUDIENCE])
            avoid.setdefault(AUDIENCE, set()).update(v for v in self.vocabulary.audiences if v not in suited)
        for word in need.exclusions:  # "not wooden": oak and pine go too, whatever their titles say
            family = self.vocabulary.family_of(word)
            if family is not None:
                avoid.setdefault(family[0], set()).update(family[1])
        ids = set(exclude)
        if need.size is not None:
            ids.update(self.size_exclusions(need.size[0], need.size[1] == "bigger"))
        wished = {k: v for k, v in need.wishes.items() if k in HARD_WISHES}
        if wished:  # a wish filters where the catalog describes it; where it seldom does, it ranks (Needs.preferences)
            pool = self._table.mask(Filters(categories=frozenset(need.scope), min_price=low, max_price=high))
            wished = {k: v for k, v in wished.items()
                      if k in need.strict or self._table.known_share(k, pool) >= HARD_WISH_MIN_KNOWN}
            pointed = self._best_match(need.text, pool) if wished and need.text else None
            if pointed is not None:  # "tempered glass": the screen guards say no material, so "glass" cannot filter
                wished = {k: v for k, v in wished.items() if k in need.strict or pointed.attribute(k)}
        return Filters(
            categories=frozenset(need.scope),
            min_price=low,
            max_price=high,
            exclude_terms=need.exclusions,
            require_attributes={k: self.vocabulary.covers(k, v) for k, v in wished.items()},
            exclude_attributes={k: frozenset(v) for k, v in avoid.items()},
            exclude_ids=frozenset(ids),
        )

    def _best_match(self, text: str, pool: np.ndarray) -> Product | None:
        """The item of ``pool`` the words point at most (dense and BM25 fused), or ``None``; remembered per shop."""
        key = (text, pool.tobytes())
        if key not in self._pointed:
            words = self.vocabulary.spelled(without_budget(text)).lower()
            retriever = self.recommender.retriever
            found = retriever.candidates(retriever.embed_query(words), words, pool, 1) if pool.any() else None
            self._pointed[key] = (self.catalog[found.positions[int(np.argmax(found.fused))]]
                                  if found is not None and found.positions else None)
        return self._pointed[key]

    def _mask(self, need: Need, exclude: Sequence[str]) -> np.ndarray:
        mask = self._table.mask(self.filters(need, exclude))
        low, high = self.price_range(need)
        if low is not None and high is not None and low > high:
            mask &= False  # e.g. "pricier" than the dearest item within the stated budget: nothing fits
        return mask

    @property
    def answers(self) -> ItemAnswers:
        """Answers questions about items and the catalog (made over the retriever's encoder when none was given)."""
        if self._answers is None:
            retriever = self.recommender.retriever
            self._answers = ItemAnswers(retriever.encoder, stored=retriever.sentences,
                                        values=catalog_values(self.catalog))
        return self._answers

    def answer(self, product: Product, question: str, wished: Mapping[str, str]) -> Answer:
        """The answer to a question about one item, from its own fields and description."""
        return self.answers.answer(product, question, wished=wished)

    def bought_with(self, item_id: str, need: Need, exclude: Sequence[str], *, k: int) -> list[Scored]:
        """Items other customers took with ``item_id`` (at least five of them), in stock and within the need's budget.

        Other kinds come first (a complement, not another of the same); each card says how many took both.
        """
        reference = self.product(item_id)
        if self.collaborative is None or reference is None:
            return []
        allowed = self._mask(need, exclude)
        found = [(other, count) for other, count in self.collaborative.bought_with(item_id)
                 if other in self.catalog and allowed[self.catalog.position(other)]]
        found.sort(key=lambda pair: self.catalog[self.catalog.position(pair[0])].category == reference.category)
        return [Scored(product, float(count), rank, texts.BOUGHT_WITH.format(count=count, title=reference.title), 0.0)
                for rank, (other, count) in enumerate(found[:k], 1) if (product := self.product(other)) is not None]

    def facet(self, need: Need, question: str, exclude: Sequence[str]) -> Facet:
        """What the items meeting ``need`` hold for the facet the question asks about (how many, which brands)."""
        facet = facet_of(self.answers.facets.facet(question), self._candidates(need, exclude))
        every = self._table.mask(dataclasses.replace(self.filters(need, exclude), in_stock_only=False))
        return dataclasses.replace(facet, out_of_stock=int(every.sum()) - facet.count)

    def count(self, need: Need, exclude: Sequence[str]) -> int:
        """How many items pass every hard constraint, leaving out ``exclude``."""
        return int(self._mask(need, exclude).sum())

    def _candidates(self, need: Need, exclude: Sequence[str] = ()) -> list[Product]:
        return [self.catalog[int(i)] for i in np.flatnonzero(self._mask(need, exclude))]

    def scope_of(self, text: str) -> tuple[str, ...]:
        """The categories the words mean, from the catalog's best matches (dense and BM25 fused).

        The ``SCOPE_VOTERS`` best in-stock matches vote for their categories, the first counting most;
        categories with a fair share of the votes form the scope, likeliest first; when none has a majority,
        so does the category of any of the first few matches scoring nearly as well as the first. Nothing when the
        words name no kind of product or the best match is not close: below the encoder's
        ``related_similarity`` (MiniLM: "a kite" 0.61 and "something to sit on" 0.45 where the shop has
        them, "a spaceship" 0.31, "what is your return policy" 0.16), or below three quarters of it when
        no word of the message is one the catalog uses ("high heels" among terse shoe titles). Misspelt
        words are read as the catalog words they misspell first. An encoder without that threshold (the
        hashing one of the tests) cannot tell near from far: then only named categories scope a need.
        """
        words = self._telling_words(text)
        if not re.search(r"[^\W\d_]{3,}", words):
            return ()
        retriever = self.recommender.retriever
        threshold = getattr(retriever.encoder, "related_similarity", None)
        if threshold is None:
            return ()
        allowed = self._table.mask(Filters())
        found = retriever.candidates(retriever.embed_query(words), words, allowed, SCOPE_VOTERS)
        best = float(found.semantic.max()) if found.positions else 0.0
        shared = self._shares_a_word(words)
        if best < threshold and not (shared and best >= SCOPE_SHARED_WORD * threshold):
            return ()
        votes: dict[str, float] = defaultdict(float)
        order = np.argsort(-found.fused, kind="stable")[:SCOPE_VOTERS]
        for rank, i in enumerate(order):
            votes[self.catalog[found.positions[int(i)]].category] += 1.0 / (rank + 1)
        total = sum(votes.values())
        likeliest = sorted(votes.items(), key=lambda cv: -cv[1])[:SCOPE_MAX]
        chosen = [c for c, v in likeliest if v / total >= SCOPE_SHARE]
        if not chosen:  # votes spread thin: the likeliest few together
            return tuple(c for c, _ in likeliest)
        if likeliest[0][1] / total >= SCOPE_MAJORITY:
            return tuple(chosen)
        # no kind has a majority: one among the very best matches, nearly as close as the first, stays possible
        # ("something to keep my 3 year old busy on a long flight": a doll first, then a toy jet and a bath book)
        lead = float(found.fused[order[0]])
        near = [self.catalog[found.positions[int(i)]].category for i in order[:SCOPE_NEAR_RANKS]
                if float(found.fused[i]) >= SCOPE_NEAR_SHARE * lead]
        return tuple(dict.fromkeys([*chosen, *near]))[:SCOPE_MAX]

    def off_topic(self, text: str) -> bool:
        """Whether the words read like the talk the NLU knows is about no product (:mod:`actions.off_topic`).

        ``False`` when the shop was given no known off-topic talk (an encoder that cannot tell near from far).
        """
        known = self._off_topic
        return known is not None and known.is_off_topic(text, self.recommender.retriever.embed_query)

    def closer_kind(self, text: str, scope: Sequence[str], limits: Need | None = None) -> str | None:
        """The category of the catalog's best match for the words when it lies outside ``scope`` and is clearly closer.

        A kind named by one of the words is not always what the whole message asks for: "wooden jewellery
        box" names Jewellery where the shop files its jewellery boxes under Beauty, "bag to carry my yoga
        mat" names Bags where the yoga-mat bag is under Sports, "asics running shoes" names Footwear where the
        two Asics models have categories of their own. The best match counts when it is close (the encoder's
        ``related_similarity``) and its fused score (dense and BM25) is ahead of the best item inside the scope by
        ``CLOSER_KIND_MARGIN``, both lists put on one scale; then
        the scope should hold its category too. Both sides are searched within the price range and
        exclusions of ``limits`` (the need as it stands): "rc car under 50" names the RC hobby kits, whose
        cars under $50 are spare parts, while the toy RC cars under $50 are Kids' Electronics. ``None`` when
        the scope already holds the best match, when it is not close, or when the encoder cannot tell near
        from far (the hashing one of the tests).
        """
        words = self._telling_words(text)
        retriever = self.recommender.retriever
        threshold = getattr(retriever.encoder, "related_similarity", None)
        if threshold is None or not scope or not re.search(r"[^\W\d_]{3,}", words):
            return None
        vector = retriever.embed_query(words)
        bounds = Need() if limits is None else Need(budget_min=limits.budget_min, budget_max=limits.budget_max,
                                                    price_floor=limits.price_floor, price_cap=limits.price_cap,
                                                    exclusions=limits.exclusions)
        allowed = self._mask(bounds, ())
        everywhere = retriever.candidates(vector, words, allowed, SCOPE_VOTERS)
        inside = retriever.candidates(vector, words, allowed & self._table.mask(Filters(categories=frozenset(scope))),
                                      SCOPE_VOTERS)
        if not everywhere.positions:
            return None
        # both lists on one scale: the BM25 part of a fused score is relative to the best match among the candidates
        positions = [*everywhere.positions, *inside.positions]
        semantic = np.concatenate([everywhere.semantic, inside.semantic])
        fused = retriever.fused_scores(words, positions, semantic)
        best = int(np.argmax(fused))
        category = self.catalog[int(positions[best])].category
        if category in scope or semantic[best] < threshold:
            return None
        best_inside = float(fused[len(everywhere.positions):].max()) if inside.positions else 0.0
        return category if float(fused[best]) - best_inside >= CLOSER_KIND_MARGIN else None

    def _telling_words(self, text: str) -> str:
        """The words that may say what is wanted, misspellings read as the catalog words they misspell."""
        return self.vocabulary.spelled(self._own_words(text)).lower()

    @staticmethod
    def _own_words(text: str) -> str:
        """The words that may say what is wanted, as typed, without the budget or a way of saying "likes".

        >>> CatalogShop._own_words("they're nuts about pokemon"), CatalogShop._own_words("she's crazy for horses")
        ('pokemon', 'horses')
        """
        words = _FONDNESS.sub(" ", without_budget(text).lower())
        return " ".join(w for w in re.findall(r"[\w'&-]+", words) if w not in _NO_KIND)

    def _shares_a_word(self, words: str) -> bool:
        return any(len(w) >= 3 and w not in _NOT_TELLING and self.vocabulary.uses(w) for w in words.split())

    def closest(self, need: Need, text: str, k: int, exclude: Sequence[str], *, asked: bool = False) -> list[Scored]:
        """What a search box would show for words that name no kind ("make my room smell nice").

        The best matches of the words within the need's budget, exclusions and wearer, when the best is close by
        the encoder's ``related_similarity``: at ``CLOSEST_SHARE`` of it when a word of the message, as typed
        or as the catalog word it misspells, is one the catalog uses; at
        ``CLOSEST_UNSHARED_SHARE`` of it, on the words as typed, when none is. So "asdfgh" or "a spaceship"
        in a furniture shop still get the starter list or "we don't carry", and an encoder without that
        measure (the hashing one of the tests) searches only words the catalog uses.

        ``asked``: the classifier read the message as a request for something ("my walls need something on
        them"). Then the words are a query like a search box's, and its best matches are shown however far
        they are: a customer's indirect description scores as low against the right item as small talk does
        against any, so closeness cannot tell a request from chat; the classifier already did.
        """
        typed = self._own_words(text)
        threshold = getattr(self.recommender.retriever.encoder, "related_similarity", None)
        spelled = self.vocabulary.spelled(typed).lower()  # "mascarra" is the shop's mascara; "tell" stays "tell"
        shared = self._shares_a_word(spelled)
        if not shared and (threshold is None or not re.search(r"[^\W\d_]{3,}", typed)):
            return []
        words = spelled if shared else typed
        limits = Need(budget_min=need.budget_min, budget_max=need.budget_max, exclusions=need.exclusions, text=words,
                      wishes={k: v for k, v in need.wishes.items() if k == AUDIENCE})
        result = self.recommender.recommend(self._needs(limits), self.preferences((), ()), k=k,
                                            exclude_ids=list(exclude), filters=self.filters(limits, exclude),
                                            relax=False)
        share = CLOSEST_SHARE if shared else CLOSEST_UNSHARED_SHARE
        best = max((s.semantic for s in result.items), default=0.0)
        if threshold is not None and not asked and best < share * threshold:
            return []
        return result.items

    def product(self, item_id: str) -> Product | None:
        """The product with this id, or ``None``."""
        return self.catalog.get(item_id)

    def cheapest(self, need: Need, exclude: Sequence[str]) -> Product | None:
        """The cheapest item that passes, or ``None``."""
        mask = self._mask(need, exclude)
        if not mask.any():
            return None
        return self.catalog[int(np.flatnonzero(mask)[np.argmin(self._prices[mask])])]

    def dearest(self, need: Need, exclude: Sequence[str]) -> Product | None:
        """The most expensive item that passes, or ``None``."""
        mask = self._mask(need, exclude)
        if not mask.any():
            return None
        return self.catalog[int(np.flatnonzero(mask)[np.argmax(self._prices[mask])])]

    def size_exclusions(self, reference: str, bigger: bool) -> list[str]:
        """Ids of items in the reference's category not bigger (or not smaller) than it."""
        anchor = self.catalog.get(reference)
        anchor_size = size_number(anchor.size) if anchor is not None else None
        if anchor is None or anchor_size is None:
            return []
        wrong = [anchor.id]
        for product in self.catalog:
            if product.category == anchor.category:
                size = size_number(product.size)
                if size is not None and (size <= anchor_size if bigger else size >= anchor_size):
                    wrong.append(product.id)
        return wrong

    def conflicts(self, attribute: str, value: str, word: str) -> bool:
        """Whether ruling out ``word`` rules out the wished ``value``: the same word, or values in common.

        "no wood" rules out a "wooden" wish (oak, pine…); "not metal" an "aluminium" one; "not oak" a
        "wooden" one too, since the wish would then be half broken.
        """
        if value.casefold() == word.casefold():
            return True
        family = self.vocabulary.family_of(word)
        ruled = {v.casefold() for v in (family[1] if family and family[0] == attribute else {word})}
        return bool(ruled & {v.casefold() for v in self.vocabulary.covers(attribute, value)})

    def relative_budget(self, need: Need, word: str) -> tuple[float | None, float | None]:
        """The price range "cheap" / "mid" / "premium" means among this need's candidates."""
        loose = Need(scope=need.scope, wishes=need.wishes, exclusions=need.exclusions)
        prices = [p.price for p in self._candidates(loose)] or [p.price for p in self.catalog]
        low, high = RELATIVE_BUDGETS.get(word, (None, None))
        return (round(float(np.quantile(prices, low)), 2) if low is not None else None,
                round(float(np.quantile(prices, high)), 2) if high is not None else None)

    # -- ranking -------------------------------------------------------------------------------------

    def _needs(self, need: Need) -> Needs:
        """The need as the recommender ranks and explains it: only a stated budget is ever cited.

        The words searched are the customer's without their amounts: the budget is a filter, and "under
        1500" as words would match items by their numbers.
        """
        words = without_budget(need.text) if need.text else ""
        return Needs(
            category=need.scope[0] if len(need.scope) == 1 else (need.scope_words or None),
            min_price=need.budget_min,
            max_price=need.budget_max,
            preferences={k: v for k, v in need.wishes.items() if k in SOFT_ATTRIBUTES},
            exclusions=need.exclusions,
            text=self.vocabulary.spelled(words) if words else "",
        )

    def preferences(self, liked: Sequence[str], rejected: Sequence[str]) -> Preferences:
        """What may personalise the ranking.

        This conversation's likes and dislikes, plus the stored profile when the customer
        consented — nothing at all when personalisation is off.
        """
        if not self._personalised:
            return Preferences()
        vector = np.zeros(self.recommender.retriever.dimension, dtype=np.float32)
        affinities: dict[str, float] = {}
        for item_ids, weight in ((liked, 1.0), (rejected, -0.5)):
            for item_id in item_ids:
                product = self.catalog.get(item_id)
                if product is None:
                    continue
                vector = vector + weight * self.recommender.item_vector(item_id)
                for name, value in taught_attributes(product).items():
                    if value:
                        key = affinity_key(name, value)
                        affinities[key] = affinities.get(key, 0.0) + weight
        snapshot = self._snapshot
        if snapshot is not None and snapshot.usable:
            if snapshot.vector is not None and snapshot.vector.shape == vector.shape:
                vector = vector + snapshot.vector
            for key, score in snapshot.affinities.items():
                affinities[key] = affinities.get(key, 0.0) + score
        norm = float(np.linalg.norm(vector))
        return Preferences(vector=(vector / norm).astype(np.float32) if norm > 0 else None, affinities=affinities,
                           together=self._taken_together(liked))

    def _taken_together(self, liked: Sequence[str], keep: int = 50) -> dict[str, tuple[float, str]]:
        """What other customers took with this one's likes, strongest first.

        Each with its strength (0–1) and, where at least five customers are behind it, the reason that says so.
        """
        model = self.collaborative
        if model is None or not liked:
            return {}
        scores = model.scores(liked)
        scores[[model.positions[i] for i in liked if i in model.positions]] = 0.0  # what they have is no suggestion
        best = float(scores.max()) if len(scores) else 0.0
        if best <= 0:
            return {}
        reasons: dict[str, str] = {}
        for item in liked:
            product = self.catalog.get(item)
            title = product.title if product is not None else item
            for other, count in model.bought_with(item):
                reasons.setdefault(other, texts.BOUGHT_WITH.format(count=count, title=title))
        top = np.argsort(-scores, kind="stable")[:keep]
        return {model.ids[p]: (float(scores[p]) / best, reasons.get(model.ids[p], "")) for p in top if scores[p] > 0}

    def recommend(self, need: Need, exclude: Sequence[str], *, k: int = ITEMS_PER_TURN,
                  like_item: str | None = None, liked: Sequence[str] = (),
                  rejected: Sequence[str] = ()) -> list[Scored]:
        """The best ``k`` items that pass every hard constraint (never a relaxed one).

        A scope the search guessed from the words (:attr:`Need.scope_soft`) is a prior, not a filter: the
        customer's words search every kind within the stated limits, the guessed kinds first unless another
        kind matches clearly better (``RankingWeights.scope_prior``). A kind the customer named filters.
        """
        if need.order is not None:
            return self._in_order(need, exclude, k)
        soft = need.scope_soft and bool(need.scope) and bool(need.text)
        limits = dataclasses.replace(need, scope=()) if soft else need
        needs = dataclasses.replace(self._needs(need), category=None) if soft else self._needs(need)  # the words alone
        result = self.recommender.recommend(
            needs, self.preferences(liked, rejected), k=k, like_item=like_item,
            filters=self.filters(limits, exclude), relax=False,
            prior=need.scope if soft else (),
        )
        return result.items

    def _in_order(self, need: Need, exclude: Sequence[str], k: int) -> list[Scored]:
        """The first ``k`` items of the need in the order a superlative asked for ("your cheapest desk").

        Every item passing the hard constraints is ranked when a kind is known; with only words, the items
        closest to them (a search's candidates) are. "Best rated" is the rating shrunk towards the catalog's
        mean by :data:`RATING_PRIOR` ratings, so one 5-star rating does not beat 4.8 from two hundred.
        """
        mask = self._mask(need, exclude)
        if not need.scope and need.text and mask.any():
            closest = self.recommender.recommend(self._needs(need), self.preferences((), ()), k=ORDERED_POOL,
                                                 filters=self.filters(need, exclude), relax=False).items
            pool = [s.product for s in closest]
        else:
            pool = [self.catalog[int(i)] for i in np.flatnonzero(mask)]
        rated = [p.rating for p in self.catalog if p.rating is not None]
        mean = float(np.mean(rated)) if rated else 0.0
        bought = self._bought_by() if need.order == "popular" else {}

        def key(p: Product) -> tuple[float, float]:
            if need.order == "cheapest":
                return p.price, 0.0
            if need.order == "priciest":
                return -p.price, 0.0
            shrunk = ((p.rating or 0.0) * p.rating_count + mean * RATING_PRIOR) / (p.rating_count + RATING_PRIOR) \
                if p.rating is not None else 0.0
            if need.order == "popular" and bought:  # how many customers took it, where the interactions say
                return -float(bought.get(p.id, 0)), -float(p.rating_count)
            if need.order in ("most_reviewed", "popular"):  # without interactions, ratings stand for popularity
                return -float(p.rating_count), -shrunk
            return -shrunk, -float(p.rating_count)

        kind = need.scope_words or (need.scope[0].lower() if len(need.scope) == 1 else "")
        ordered = sorted(pool, key=key)[:k]
        # "our cheapest desk" only when no desk at all comes before it; else the first of what fits
        everything = self._mask(Need(scope=need.scope), ()) if need.scope else None
        ours = bool(ordered) and everything is not None and \
            min((self.catalog[int(i)] for i in np.flatnonzero(everything)), key=key).id == ordered[0].id
        # "bought by N customers" only from real counts of five or more; otherwise the ratings are what is said
        orders = [need.order if need.order != "popular" or p.id in bought else "most_reviewed" for p in ordered]
        return [Scored(p, 0.0, rank, order_reason(order or "", p, rank, kind, ours=ours, bought=bought.get(p.id, 0)),
                       0.0) for rank, (p, order) in enumerate(zip(ordered, orders, strict=True), start=1)]

    def _bought_by(self) -> dict[str, int]:
        """How many customers took each item, counted only from five on (``MIN_CUSTOMERS``): real counts or none."""
        return self.collaborative.popular() if self.collaborative is not None else {}

    def starter(self, need: Need, k: int, exclude: Sequence[str]) -> list[Scored]:
        """The best-rated item of each of the ``k`` biggest categories, within the need's budget and exclusions."""
        allowed = self._mask(Need(budget_min=need.budget_min, budget_max=need.budget_max,
                                  exclusions=need.exclusions), exclude)
        counts = self.vocabulary.category_counts
        picks: list[Scored] = []
        for category in sorted(counts, key=lambda c: (-counts[c], c.casefold())):
            pool = [p for i, p in enumerate(self.catalog) if allowed[i] and p.category == category]
            if not pool:
                continue
            best = max(pool, key=lambda p: ((p.rating or 0.0) * min(p.rating_count, 50), -p.price))
            rating = f", rated {best.rating:.1f}/5" if best.rating is not None else ""
            picks.append(Scored(best, 0.0, len(picks) + 1, f"one of our best-liked {category.lower()}{rating}", 0.0))
            if len(picks) == k:
                break
        return picks

    def surprise(self, need: Need, exclude: Sequence[str], *, k: int, seed: int) -> list[Scored]:
        """Well-rated items within the hard limits, away from what was seen."""
        limits = Need(scope=need.scope, budget_min=need.budget_min, budget_max=need.budget_max,
                      exclusions=need.exclusions)
        result = self.recommender.surprise(self._needs(limits), self.preferences((), ()), k=k,
                                           exclude_ids=list(exclude), seed=seed, relax=False,
                                           filters=self.filters(limits, exclude))
        return result.items

    # -- questions -----------------------------------------------------------------------------------

    def next_question(self, need: Need, asked: int) -> str | None:
        """The question that best splits the candidates, or ``None`` once asking no longer helps."""
        if asked >= MAX_QUESTIONS:
            return None
        candidates = self._candidates(need)
        if len(candidates) <= ENOUGH_CANDIDATES:
            return None
        splits = len(need.scope) > 1 and answer_entropy(candidates, "category") >= KIND_MIN_BITS
        if splits and "kind" not in need.settled:
            return "kind"  # "sofa" on a catalog with corner sofas and sofa beds: which kind first
        if "budget" not in need.settled and need.budget_max is None and need.budget_min is None \
                and answer_entropy(candidates, "budget") >= 0.5:
            return "budget"
        open_questions = [a for a in ATTRIBUTE_QUESTIONS if a not in need.settled and a not in need.wishes]
        return best_question(candidates, open_questions)

    def values(self, attribute: str, limit: int) -> list[str]:
        """The commonest values of an attribute in the catalog, each spelling counted once."""
        return self.vocabulary.popular_values(attribute, limit)

    def categories(self) -> tuple[tuple[str, str], ...]:
        """Category buttons, the biggest categories, in alphabetical order."""
        return tuple((c, f'/inform{{"category": "{c}"}}')
                     for c in self.vocabulary.popular_categories(MAX_CATEGORY_OPTIONS))

    def question(self, need: Need, attribute: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The text and buttons of a need question."""
        if attribute == "category":
            return texts.ASK_CATEGORY, self.categories()
        dont_mind = (texts.DONT_MIND, "/no_preference")
        if attribute == "budget":
            return self._budget_question(need)
        if attribute == "kind":
            return self._kind_question(need)
        top = self.vocabulary.popular_values(attribute, 5, self._candidates(need))
        buttons = tuple((v, f'/inform{{"{attribute}": "{v}"}}') for v in top)
        return texts.ASK_ATTRIBUTE[attribute], (*buttons, dont_mind)

    def _kind_question(self, need: Need) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Which of the scope's categories, in the scope's order (the closest to the customer's words first)."""
        counts = self.vocabulary.category_counts
        kinds = [c for c in need.scope if counts.get(c)]
        names = [c.lower() for c in kinds]
        options = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else "".join(names)
        buttons = tuple((c, f'/inform{{"category": "{c}"}}') for c in kinds)
        return texts.ASK_KIND.format(options=options), (*buttons, (texts.ANY_KIND, "/no_preference"))

    def _budget_question(self, need: Need) -> tuple[str, tuple[tuple[str, str], ...]]:
        prices = sorted(p.price for p in self._candidates(need))
        currency = self.currency
        buttons: list[tuple[str, str]] = []
        if prices:
            low, high = (shopper_round(float(np.quantile(prices, q))) for q in (0.33, 0.66))
            between = f"{format_price(low, currency)}–{format_price(high, currency)}"
            ranges = [(f"Under {format_price(low, currency)}", f"under {low:.0f}"),
                      (between, f"between {low:.0f} and {high:.0f}"),
                      (f"Over {format_price(high, currency)}", f"over {high:.0f}")]
            for title, text in ranges if high > low else ranges[::2]:
                buttons.append((title, f'/inform{{"budget": "{text}"}}'))
        buttons.append(("No budget", "/no_preference"))
        example = format_price(shopper_round(float(np.median(prices))), currency) if prices else "500"
        for_category = f" for the {need.scope_words or need.scope[0].lower()}" if need.scope else ""
        return texts.ASK_BUDGET.format(for_category=for_category, example=example), tuple(buttons)

    def describe(self, need: Need) -> str:
        """The need in a few words: "grey sofas without leather under $800"."""
        # The use is worded after the kind ("for a small flat"), every other attribute before it.
        words = [v.lower() for k, v in need.wishes.items() if k in NAMED_ATTRIBUTES]
        kind = ", ".join(c.lower() for c in need.scope[:3]) if need.scope else "items"
        parts = [" ".join([*words, kind])]
        for name in ("use", AUDIENCE):
            if need.wishes.get(name):
                parts.append(f"for {need.wishes[name].lower()}")
        if need.exclusions:
            parts.append("without " + " or ".join(need.exclusions))
        for attribute, value in need.avoid:
            parts.append(f"in a {attribute} other than {value.lower()}")
        low, high = self.price_range(need)
        if low is not None and high is not None:
            parts.append(f"between {format_price(low, self.currency)} and {format_price(high, self.currency)}")
        elif high is not None:
            parts.append(f"under {format_price(high, self.currency)}")
        elif low is not None:
            parts.append(f"over {format_price(low, self.currency)}")
        return " ".join(parts)
