"""Interactions of customers who did not consent are kept under a pseudonym, with no customer row.

Existing rows are brought into line: the interactions of every customer who did not
consent move under a one-off pseudonym (a keyed hash whose random key is discarded after
the upgrade, so they stay countable per customer but are linked to nobody), and customers
who were never asked the consent question and made no privacy choice are deleted.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column('interactions', sa.Column('pseudonym', sa.String(length=64), nullable=True))
    op.alter_column('interactions', 'customer_id',
               existing_type=sa.INTEGER(),
               nullable=True)
    op.create_index('ix_interactions_created', 'interactions', ['created_at'], unique=False)
    op.create_index('ix_interactions_pseudonym', 'interactions', ['pseudonym'], unique=False)
    _pseudonymise_existing_rows()


def _pseudonymise_existing_rows() -> None:
    connection = op.get_bind()
    customers = sa.table('customers', sa.column('id', sa.Integer), sa.column('consent', sa.Boolean),
                         sa.column('consent_asked', sa.Boolean), sa.column('personalisation', sa.Boolean))
    interactions = sa.table('interactions', sa.column('customer_id', sa.Integer),
                            sa.column('pseudonym', sa.String))
    key = secrets.token_bytes(32)  # discarded: the one-off pseudonyms can never be linked back
    not_consenting = connection.execute(
        sa.select(customers.c.id).where(sa.or_(customers.c.consent.is_(None), customers.c.consent.is_(False)))
    ).scalars().all()
    for customer_id in not_consenting:
        pseudonym = "m-" + hmac.new(key, str(customer_id).encode(), hashlib.sha256).hexdigest()[:32]
        connection.execute(sa.update(interactions).where(interactions.c.customer_id == customer_id)
                           .values(customer_id=None, pseudonym=pseudonym))
    connection.execute(sa.delete(customers).where(customers.c.consent.is_(None),
                                                  customers.c.consent_asked.is_(False),
                                                  customers.c.personalisation.is_(True)))


def downgrade() -> None:
    """Revert this revision."""
    # rows with no customer cannot be kept when customer_id is required again
    op.execute("DELETE FROM interactions WHERE customer_id IS NULL")
    op.drop_index('ix_interactions_pseudonym', table_name='interactions')
    op.drop_index('ix_interactions_created', table_name='interactions')
    op.alter_column('interactions', 'customer_id',
               existing_type=sa.INTEGER(),
               nullable=False)
    op.drop_column('interactions', 'pseudonym')
