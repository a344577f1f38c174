"""the monitoring site: per-night problem counts per region and rule, sign-in attempts, rule releases

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 22:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('night_counts',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('found', sa.Integer(), nullable=False),
    sa.Column('open', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('cleared', sa.Integer(), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('delivery_date', 'region_code', 'rule')
    )
    op.create_index('ix_night_counts_region', 'night_counts', ['region_code', 'rule', 'delivery_date'])
    op.create_index(
        'ix_night_counts_level', 'night_counts', [sa.text('length(region_code)'), 'rule', 'region_code', 'delivery_date']
    )
    op.create_table('sign_in_attempts',
    sa.Column('attempt_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_key', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('attempt_id')
    )
    op.create_index('ix_sign_in_attempts_user', 'sign_in_attempts', ['user_key', 'at'])
    op.create_index('ix_sign_in_attempts_address', 'sign_in_attempts', ['address', 'at'])
    op.create_table('rule_releases',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('released_by', sa.String(length=64), nullable=False),
    sa.Column('released_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'rule')
    )
    op.create_index('ix_persons_name', 'persons', ['name'])
    op.create_index('ix_clues_person', 'clues', ['person_id'])
    op.create_index('ix_clues_status', 'clues', ['status', 'clue_id'])


def downgrade() -> None:
    op.drop_index('ix_clues_status', table_name='clues')
    op.drop_index('ix_clues_person', table_name='clues')
    op.drop_index('ix_persons_name', table_name='persons')
    op.drop_table('rule_releases')
    op.drop_index('ix_sign_in_attempts_address', table_name='sign_in_attempts')
    op.drop_index('ix_sign_in_attempts_user', table_name='sign_in_attempts')
    op.drop_table('sign_in_attempts')
    op.drop_index('ix_night_counts_level', table_name='night_counts')
    op.drop_index('ix_night_counts_region', table_name='night_counts')
    op.drop_table('night_counts')
