"""base map: persons, households, links, linkage models, review

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 18:12:20.116272
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('households',
    sa.Column('household_code', sa.String(length=17), nullable=False),
    sa.Column('household_key', sa.Text(), nullable=False),
    sa.Column('hukou_no', sa.Text(), nullable=True),
    sa.Column('village_code', sa.String(length=12), nullable=True),
    sa.Column('head_person_id', sa.String(length=10), nullable=True),
    sa.Column('first_seen', sa.Date(), nullable=False),
    sa.Column('last_seen', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('household_code'),
    sa.UniqueConstraint('household_key')
    )
    op.create_table('linkage_models',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('model', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('delivery_date')
    )
    op.create_table('links',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('feed', sa.String(length=40), nullable=False),
    sa.Column('record_key', sa.Text(), nullable=False),
    sa.Column('person_id', sa.String(length=10), nullable=False),
    sa.Column('household_code', sa.String(length=17), nullable=True),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.Column('match_weight', sa.Float(), nullable=True),
    sa.Column('anchor_feed', sa.String(length=40), nullable=True),
    sa.Column('anchor_key', sa.Text(), nullable=True),
    sa.Column('levels', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'feed', 'record_key')
    )
    op.create_table('persons',
    sa.Column('person_id', sa.String(length=10), nullable=False),
    sa.Column('household_code', sa.String(length=17), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('name_source', sa.Text(), nullable=True),
    sa.Column('id_number', sa.Text(), nullable=True),
    sa.Column('id_source', sa.Text(), nullable=True),
    sa.Column('sex', sa.Text(), nullable=True),
    sa.Column('sex_source', sa.Text(), nullable=True),
    sa.Column('birth_date', sa.Text(), nullable=True),
    sa.Column('birth_source', sa.Text(), nullable=True),
    sa.Column('ethnicity', sa.Text(), nullable=True),
    sa.Column('ethnicity_source', sa.Text(), nullable=True),
    sa.Column('village_code', sa.Text(), nullable=True),
    sa.Column('village_source', sa.Text(), nullable=True),
    sa.Column('hukou_state', sa.Text(), nullable=True),
    sa.Column('hukou_state_source', sa.Text(), nullable=True),
    sa.Column('insured_state', sa.Text(), nullable=True),
    sa.Column('insured_source', sa.Text(), nullable=True),
    sa.Column('enrolment_state', sa.Text(), nullable=True),
    sa.Column('enrolment_source', sa.Text(), nullable=True),
    sa.Column('illness_kind', sa.Text(), nullable=True),
    sa.Column('illness_source', sa.Text(), nullable=True),
    sa.Column('assistance_kind', sa.Text(), nullable=True),
    sa.Column('assistance_source', sa.Text(), nullable=True),
    sa.Column('first_seen', sa.Date(), nullable=False),
    sa.Column('last_seen', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_table('review_decisions',
    sa.Column('feed', sa.String(length=40), nullable=False),
    sa.Column('record_key', sa.Text(), nullable=False),
    sa.Column('candidate_feed', sa.String(length=40), nullable=False),
    sa.Column('candidate_key', sa.Text(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('feed', 'record_key', 'candidate_feed', 'candidate_key')
    )
    op.create_table('review_queue',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('feed', sa.String(length=40), nullable=False),
    sa.Column('record_key', sa.Text(), nullable=False),
    sa.Column('candidate_feed', sa.String(length=40), nullable=False),
    sa.Column('candidate_key', sa.Text(), nullable=False),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.Column('match_weight', sa.Float(), nullable=True),
    sa.Column('levels', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('delivery_date', 'feed', 'record_key', 'candidate_feed', 'candidate_key')
    )


def downgrade() -> None:
    op.drop_table('review_queue')
    op.drop_table('review_decisions')
    op.drop_table('persons')
    op.drop_table('links')
    op.drop_table('linkage_models')
    op.drop_table('households')
