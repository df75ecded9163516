"""The data layer on in-memory SQLite."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import Customer, Interaction, InteractionKind, Profile, ProfileStore, create_schema, make_engine
from store.db import StoreSettings
from store.profiles import AFFINITY_LIMIT


@pytest.fixture
def profiles() -> ProfileStore:
    engine = make_engine("sqlite://")
    create_schema(engine)
    return ProfileStore(engine)


def count(store: ProfileStore, model: type) -> int:
    with Session(store.engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_stranger_has_an_empty_snapshot(profiles: ProfileStore) -> None:
    snapshot = profiles.snapshot("nobody")
    assert not snapshot.known and snapshot.consent is None and not snapshot.usable


def test_nothing_is_learned_without_consent(profiles: ProfileStore) -> None:
    assert profiles.learn("web-1", attributes={"colour": "grey"}) is False
    profiles.set_consent("web-1", False)
    assert profiles.learn("web-1", attributes={"colour": "grey"}) is False
    assert count(profiles, Profile) == 0
    assert profiles.snapshot("web-1").consent is False


def test_likes_and_dislikes_shape_vector_and_affinities(profiles: ProfileStore) -> None:
    profiles.set_consent("web-1", True)
    liked = np.array([1, 0, 0], dtype=np.float32)
    disliked = np.array([0, 1, 0], dtype=np.float32)
    profiles.learn("web-1", vector=liked, weight=1.0, attributes={"colour": "Grey", "material": "linen"},
                   category="Sofas", budget_max=800)
    profiles.learn("web-1", vector=disliked, weight=-1.0, attributes={"material": "leather", "style": None})
    snap = profiles.snapshot("web-1")
    assert snap.usable
    assert snap.affinities == {"colour:grey": 1.0, "material:linen": 1.0, "material:leather": -1.0}
    assert snap.vector is not None and snap.vector[0] > 0 > snap.vector[1]
    assert np.linalg.norm(snap.vector) == pytest.approx(1.0)
    assert (snap.last_category, snap.budget_max) == ("Sofas", 800)


def test_affinities_are_clamped(profiles: ProfileStore) -> None:
    profiles.set_consent("web-1", True)
    for _ in range(10):
        profiles.learn("web-1", attributes={"colour": "red"}, weight=-1.0)
    assert profiles.snapshot("web-1").affinities["colour:red"] == -AFFINITY_LIMIT


def test_interactions_are_counted_by_kind(profiles: ProfileStore) -> None:
    profiles.set_consent("web-1", True)
    profiles.record_many("web-1", [(InteractionKind.IMPRESSION, f"SKU-{i}", i + 1) for i in range(3)],
                         request_id="r-1", variant="A")
    profiles.record("web-1", InteractionKind.LIKE, item_id="SKU-1", request_id="r-1", rank=2)
    profiles.record("web-1", InteractionKind.DISLIKE, item_id="SKU-0", request_id="r-1", rank=1)
    snap = profiles.snapshot("web-1")
    assert (snap.likes, snap.dislikes, snap.choices) == (1, 1, 0)
    assert snap.liked_items == ("SKU-1",)
    with Session(profiles.engine) as session:
        impressions = session.scalars(select(Interaction).where(Interaction.kind == InteractionKind.IMPRESSION)).all()
        assert [(i.item_id, i.rank, i.variant, i.request_id) for i in impressions] == [
            ("SKU-0", 1, "A", "r-1"), ("SKU-1", 2, "A", "r-1"), ("SKU-2", 3, "A", "r-1")]


def test_personalisation_switch_keeps_the_profile(profiles: ProfileStore) -> None:
    profiles.set_consent("web-1", True)
    profiles.learn("web-1", attributes={"colour": "grey"})
    profiles.set_personalisation("web-1", False)
    snap = profiles.snapshot("web-1")
    assert not snap.usable and snap.affinities == {"colour:grey": 1.0}
    profiles.set_personalisation("web-1", True)
    assert profiles.snapshot("web-1").usable


def test_withdrawing_consent_drops_the_profile(profiles: ProfileStore) -> None:
    profiles.set_consent("web-1", True)
    profiles.learn("web-1", attributes={"colour": "grey"})
    profiles.set_consent("web-1", False)
    assert count(profiles, Profile) == 0 and profiles.snapshot("web-1").affinities == {}


def test_forget_erases_everything_of_that_sender_only(profiles: ProfileStore) -> None:
    for sender in ("web-1", "web-2"):
        profiles.set_consent(sender, True)
        profiles.learn(sender, attributes={"colour": "grey"}, vector=np.ones(3, dtype=np.float32))
        profiles.record(sender, InteractionKind.LIKE, item_id="SKU-1")
    report = profiles.forget("web-1")
    assert (report.customers, report.profiles, report.interactions) == (1, 1, 1)
    assert not profiles.snapshot("web-1").known
    with Session(profiles.engine) as session:
        assert session.scalars(select(Customer.sender_id)).all() == ["web-2"]
        assert session.scalar(select(func.count()).select_from(Interaction)) == 1
    assert profiles.forget("web-1").customers == 0


def test_settings_default_to_a_sqlite_file_in_build() -> None:
    assert StoreSettings.from_env({}).url.endswith("build/shopkeeper.db")
    assert StoreSettings.from_env({"SHOPKEEPER_DB_URL": "postgresql+psycopg://x@h/db"}).url.startswith("postgresql")
