"""rules, clues, users, ledgers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 19:49:08.990083
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clue_events',
    sa.Column('event_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('clue_id', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_name', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('delivery_date', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('clue_events', schema=None) as batch_op:
        batch_op.create_index('ix_clue_events_clue', ['clue_id', 'event_id'], unique=False)

    op.create_table('clues',
    sa.Column('clue_id', sa.String(length=16), nullable=False),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('subject_feed', sa.String(length=40), nullable=False),
    sa.Column('subject_key', sa.Text(), nullable=False),
    sa.Column('person_id', sa.String(length=10), nullable=True),
    sa.Column('household_code', sa.String(length=17), nullable=True),
    sa.Column('household_no', sa.Text(), nullable=True),
    sa.Column('village_code', sa.String(length=12), nullable=True),
    sa.Column('county_code', sa.String(length=6), nullable=True),
    sa.Column('department', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('evidence_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('verdict', sa.String(length=8), nullable=True),
    sa.Column('dismiss_reason', sa.Text(), nullable=True),
    sa.Column('rectification', sa.Text(), nullable=True),
    sa.Column('rectified_on', sa.Date(), nullable=True),
    sa.Column('verified_by', sa.Text(), nullable=True),
    sa.Column('verified_on', sa.Date(), nullable=True),
    sa.Column('signed_by', sa.Text(), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('first_seen', sa.Date(), nullable=False),
    sa.Column('last_seen', sa.Date(), nullable=False),
    sa.Column('cleared_on', sa.Date(), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('clue_id'),
    sa.UniqueConstraint('rule', 'subject_feed', 'subject_key', name='uq_clues_subject')
    )
    with op.batch_alter_table('clues', schema=None) as batch_op:
        batch_op.create_index('ix_clues_county_status', ['county_code', 'status'], unique=False)
        batch_op.create_index('ix_clues_village', ['village_code'], unique=False)

    op.create_table('ledger_imports',
    sa.Column('import_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('applied', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('report', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('import_id')
    )
    op.create_table('ledger_issues',
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('file', sa.Text(), nullable=False),
    sa.Column('clues', sa.Integer(), nullable=False),
    sa.Column('issued_by', sa.Text(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'issue_date')
    )
    op.create_table('rule_runs',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('fired', sa.Integer(), nullable=True),
    sa.Column('previous', sa.Integer(), nullable=True),
    sa.Column('new', sa.Integer(), nullable=True),
    sa.Column('cleared', sa.Integer(), nullable=True),
    sa.Column('reopened', sa.Integer(), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'rule')
    )
    op.create_table('users',
    sa.Column('user_name', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('department', sa.Text(), nullable=True),
    sa.Column('full_ids', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('user_name')
    )


def downgrade() -> None:
    op.drop_table('users')
    op.drop_table('rule_runs')
    op.drop_table('ledger_issues')
    op.drop_table('ledger_imports')
    with op.batch_alter_table('clues', schema=None) as batch_op:
        batch_op.drop_index('ix_clues_village')
        batch_op.drop_index('ix_clues_county_status')

    op.drop_table('clues')
    with op.batch_alter_table('clue_events', schema=None) as batch_op:
        batch_op.drop_index('ix_clue_events_clue')

    op.drop_table('clue_events')
