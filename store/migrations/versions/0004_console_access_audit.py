"""Console access audit: which console user opened or exported which conversation, and when.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('console_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_name', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('sender_id', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_console_audit_at', 'console_audit', ['at'], unique=False)
    op.create_index('ix_console_audit_sender', 'console_audit', ['sender_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_console_audit_sender', table_name='console_audit')
    op.drop_index('ix_console_audit_at', table_name='console_audit')
    op.drop_table('console_audit')
