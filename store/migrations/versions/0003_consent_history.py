"""Consent history: when consent was asked, given, refused or withdrawn, and personalisation switched.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('consent_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('ASKED', 'GIVEN', 'REFUSED', 'WITHDRAWN', 'PERSONALISATION_OFF', 'PERSONALISATION_ON',
                              name='consenteventkind', native_enum=False, length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_consent_events_customer', 'consent_events', ['customer_id', 'created_at'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_consent_events_customer', table_name='consent_events')
    op.drop_table('consent_events')
