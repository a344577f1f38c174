"""what each ledger issued, row by row: the clue's state and locked column values as issued

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 03:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_rows',
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('clue_id', sa.String(length=16), nullable=False),
    sa.Column('status_issued', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('locked', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'issue_date', 'clue_id')
    )
    with op.batch_alter_table('ledger_rows', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_rows_clue', ['clue_id', 'issue_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ledger_rows', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_rows_clue')
    op.drop_table('ledger_rows')
