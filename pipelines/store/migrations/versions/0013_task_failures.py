"""failed Airflow tasks (task_failures): one row per task try that failed for good, for the night page

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('task_failures',
    sa.Column('failure_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('dag_id', sa.String(length=250), nullable=False),
    sa.Column('run_id', sa.String(length=250), nullable=False),
    sa.Column('task_id', sa.String(length=250), nullable=False),
    sa.Column('map_index', sa.Integer(), nullable=False),
    sa.Column('try_number', sa.Integer(), nullable=False),
    sa.Column('data_date', sa.Date(), nullable=True),
    sa.Column('failed_at', sa.DateTime(), nullable=False),
    sa.Column('error_type', sa.String(length=250), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('failure_id'),
    sa.UniqueConstraint('dag_id', 'run_id', 'task_id', 'map_index', 'try_number', name='uq_task_failures_try')
    )
    op.create_index('ix_task_failures_date', 'task_failures', ['data_date', 'failed_at'])


def downgrade() -> None:
    op.drop_index('ix_task_failures_date', table_name='task_failures')
    op.drop_table('task_failures')
