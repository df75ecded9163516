"""Initial schema: customers, profiles, interactions; console summaries, reviews, tags; console accounts.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 08:34:56.161142
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('console_conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.String(length=255), nullable=False),
    sa.Column('started_at', sa.Float(), nullable=False),
    sa.Column('last_at', sa.Float(), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.Column('user_messages', sa.Integer(), nullable=False),
    sa.Column('bot_messages', sa.Integer(), nullable=False),
    sa.Column('recommendations', sa.Integer(), nullable=False),
    sa.Column('likes', sa.Integer(), nullable=False),
    sa.Column('dislikes', sa.Integer(), nullable=False),
    sa.Column('has_fallback', sa.Boolean(), nullable=False),
    sa.Column('has_handoff', sa.Boolean(), nullable=False),
    sa.Column('has_choice', sa.Boolean(), nullable=False),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('first_message', sa.String(length=200), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('fold_state', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sender_id')
    )
    op.create_index('ix_console_conv_choice', 'console_conversations', ['has_choice', 'last_at'], unique=False)
    op.create_index('ix_console_conv_dislikes', 'console_conversations', ['dislikes', 'last_at'], unique=False)
    op.create_index('ix_console_conv_fallback', 'console_conversations', ['has_fallback', 'last_at'], unique=False)
    op.create_index('ix_console_conv_handoff', 'console_conversations', ['has_handoff', 'last_at'], unique=False)
    op.create_index('ix_console_conv_last', 'console_conversations', ['last_at', 'id'], unique=False)
    op.create_index('ix_console_conv_started', 'console_conversations', ['started_at'], unique=False)
    op.create_table('console_login_throttle',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('console_reviews',
    sa.Column('sender_id', sa.String(length=255), nullable=False),
    sa.Column('reviewed', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sender_id')
    )
    op.create_index('ix_console_reviews_reviewed', 'console_reviews', ['reviewed'], unique=False)
    op.create_table('console_sync',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=False),
    sa.Column('events_seen', sa.Integer(), nullable=False),
    sa.Column('synced_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('console_tags',
    sa.Column('sender_id', sa.String(length=255), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('sender_id', 'tag')
    )
    op.create_index('ix_console_tags_tag', 'console_tags', ['tag', 'sender_id'], unique=False)
    op.create_table('console_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.String(length=255), nullable=False),
    sa.Column('consent', sa.Boolean(), nullable=True),
    sa.Column('consent_asked', sa.Boolean(), nullable=False),
    sa.Column('personalisation', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sender_id')
    )
    op.create_table('console_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['console_users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_console_sessions_expires_at'), 'console_sessions', ['expires_at'], unique=False)
    op.create_index(op.f('ix_console_sessions_user_id'), 'console_sessions', ['user_id'], unique=False)
    op.create_table('interactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('IMPRESSION', 'LIKE', 'DISLIKE', 'CRITIQUE', 'CHOICE', 'SATISFACTION', 'HANDOFF',
                              name='interactionkind', native_enum=False, length=20), nullable=False),
    sa.Column('item_id', sa.String(length=255), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('variant', sa.String(length=40), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_interactions_customer_created', 'interactions', ['customer_id', 'created_at'], unique=False)
    op.create_index('ix_interactions_request', 'interactions', ['request_id'], unique=False)
    op.create_table('profiles',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=True),
    sa.Column('vector_weight', sa.Double(), nullable=False),
    sa.Column('affinities', sa.JSON(), nullable=False),
    sa.Column('last_category', sa.String(length=120), nullable=True),
    sa.Column('budget_max', sa.Double(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id')
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('profiles')
    op.drop_index('ix_interactions_request', table_name='interactions')
    op.drop_index('ix_interactions_customer_created', table_name='interactions')
    op.drop_table('interactions')
    op.drop_index(op.f('ix_console_sessions_user_id'), table_name='console_sessions')
    op.drop_index(op.f('ix_console_sessions_expires_at'), table_name='console_sessions')
    op.drop_table('console_sessions')
    op.drop_table('customers')
    op.drop_table('console_users')
    op.drop_index('ix_console_tags_tag', table_name='console_tags')
    op.drop_table('console_tags')
    op.drop_table('console_sync')
    op.drop_index('ix_console_reviews_reviewed', table_name='console_reviews')
    op.drop_table('console_reviews')
    op.drop_table('console_login_throttle')
    op.drop_index('ix_console_conv_started', table_name='console_conversations')
    op.drop_index('ix_console_conv_last', table_name='console_conversations')
    op.drop_index('ix_console_conv_handoff', table_name='console_conversations')
    op.drop_index('ix_console_conv_fallback', table_name='console_conversations')
    op.drop_index('ix_console_conv_dislikes', table_name='console_conversations')
    op.drop_index('ix_console_conv_choice', table_name='console_conversations')
    op.drop_table('console_conversations')
