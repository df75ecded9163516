"""Heavy objects the actions share, built once on first use from the settings.

Nothing is loaded at import time: the action server starts fast and the first
action that needs them loads the catalog, index, model and database engine.
Tests build a :class:`Services` of their own and hand it to the actions.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass

from actions.off_topic import OffTopic
from retrieval.answers import ItemAnswers, catalog_values
from retrieval.catalog import Catalog
from retrieval.collaborative import CollaborativeModel, collaborative_dir
from retrieval.errors import IndexMismatchError, IndexNotBuiltError
from retrieval.loaders import load_catalog
from retrieval.mapping import load_mapping
from retrieval.recommender import Recommender
from retrieval.search import Retriever
from retrieval.settings import PROJECT_ROOT, RetrievalSettings
from retrieval.vocabulary import CatalogVocabulary, read_nlu_synonyms
from store.db import StoreSettings, create_schema, make_engine, tracker_store_url
from store.experiments import Experiment, active_experiment
from store.profiles import ProfileStore
from store.pseudonyms import Pseudonymiser
from store.tracker import ConversationStore

__all__ = ["Services", "default_services", "retriever"]

logger = logging.getLogger(__name__)
#: Actions run in worker threads: the first ones to arrive together build the services once.
_BUILDING = threading.RLock()


@dataclass
class Services:
    """Everything an action may call.

    Attributes:
        recommender: catalog search and ranking.
        profiles: customers, consent, profiles, interactions.
        vocabulary: the catalog's words, to understand answers.
        conversations: Rasa's tracker store (to erase a forgotten customer's events),
            or ``None`` when it is not reachable from here.
        experiment: the running experiment (``SHOPKEEPER_EXPERIMENT``), or ``None``.
        off_topic: the NLU's known off-topic talk, or ``None`` where the encoder cannot tell
            near from far (the hashing one of the tests).
        answers: answers questions about items (their field examples embedded once), or ``None``:
            each shop makes its own.
        collaborative: what customers take together, from ``shopkeeper interactions build``, or ``None``
            when none was built for this catalog (the shop works without it).
    """

    recommender: Recommender
    profiles: ProfileStore
    vocabulary: CatalogVocabulary
    conversations: ConversationStore | None = None
    experiment: Experiment | None = None
    off_topic: OffTopic | None = None
    answers: ItemAnswers | None = None
    collaborative: CollaborativeModel | None = None

    def personalised(self, sender_id: str) -> bool:
        """Whether the running experiment lets this customer's ranking be personalised."""
        return self.experiment is None or self.experiment.assign(sender_id).personalised


def _catalog(config: RetrievalSettings) -> Catalog:
    mapping = load_mapping(config.mapping_path) if config.mapping_path else None
    report = load_catalog(config.catalog_path, mapping, strict=False)
    if report.errors:
        logger.warning("catalog %s: %s", config.catalog_path, report.summary())
    return report.catalog


def retriever() -> Retriever:
    """The catalog retriever (catalog + saved index + encoder), loaded once.

    Raises:
        CatalogError, IndexNotBuiltError, IndexMismatchError: when the catalog
            or its index is missing or out of date (``make index`` fixes it).
    """
    with _BUILDING:
        return _retriever()


@functools.cache
def _retriever() -> Retriever:
    config = RetrievalSettings.from_env()
    config.limit_serving_threads()
    catalog = _catalog(config)
    encoder = config.make_query_encoder()
    loaded = Retriever.load(catalog, encoder, config.index_dir)
    logger.info("loaded %d products, a %s index and its lexical index from %s", len(catalog),
                loaded.index.manifest.kind, config.index_dir)
    return loaded


def _collaborative(catalog: Catalog) -> CollaborativeModel | None:
    """The catalog's collaborative model, or ``None`` (none built, or built for another catalog: said in the log)."""
    folder = collaborative_dir(RetrievalSettings.from_env().index_dir)
    try:
        model = CollaborativeModel.load(folder, expected_fingerprint=catalog.fingerprint())
    except IndexNotBuiltError:
        return None
    except IndexMismatchError as exc:
        logger.warning("collaborative model not used: %s", exc)
        return None
    logger.info("loaded the collaborative model of %d customers from %s", model.manifest.customers, folder)
    return model


def default_services() -> Services:
    """The services built from the environment, once per process."""
    with _BUILDING:
        return _default_services()


@functools.cache
def _default_services() -> Services:
    retriever_ = retriever()
    store_settings = StoreSettings.from_env()
    engine = make_engine(store_settings.url)
    create_schema(engine)
    nlu_files = sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml"))
    synonyms = read_nlu_synonyms(nlu_files)
    encoder = retriever_.encoder
    url = tracker_store_url()
    experiment = active_experiment()
    if experiment is not None:
        logger.info("experiment %s: %s", experiment.name,
                    ", ".join(f"{v.name} {v.weight:g}" for v in experiment.variants))
    answers = ItemAnswers(encoder, stored=retriever_.sentences, values=catalog_values(retriever_.catalog))
    answers.warm()  # the field examples embedded now, not in a customer's first question
    collaborative = _collaborative(retriever_.catalog)
    return Services(
        recommender=Recommender(retriever_, popularity=collaborative.popular() if collaborative else None),
        profiles=ProfileStore(
            engine, variant_of=experiment.label_for if experiment else None,
            pseudonyms=Pseudonymiser(store_settings.pseudonym_key,
                                     rotation_days=store_settings.pseudonym_rotation_days),
            retention_days=store_settings.retention_days,
        ),
        vocabulary=CatalogVocabulary(retriever_.catalog, synonyms),
        conversations=ConversationStore(make_engine(url)) if url else None,
        experiment=experiment,
        off_topic=(OffTopic.from_nlu(nlu_files, encoder)
                   if getattr(encoder, "related_similarity", None) is not None else None),
        answers=answers,
        collaborative=collaborative,
    )
