"""initial schema: deliveries, feed loads, snapshots, findings, regions

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 16:41:55.443404
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('source_dir', sa.Text(), nullable=False),
    sa.Column('ingested_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('delivery_date')
    )
    op.create_table('feed_dangerous_housing',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('appraisal_no', sa.Text(), nullable=True),
    sa.Column('owner_name', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Text(), nullable=True),
    sa.Column('village_code', sa.Text(), nullable=True),
    sa.Column('grade', sa.Text(), nullable=True),
    sa.Column('appraised_on', sa.Text(), nullable=True),
    sa.Column('renovation', sa.Text(), nullable=True),
    sa.Column('completed_on', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'row_no')
    )
    with op.batch_alter_table('feed_dangerous_housing', schema=None) as batch_op:
        batch_op.create_index('ix_feed_dangerous_housing_key', ['delivery_date', 'appraisal_no'], unique=False)

    op.create_table('feed_enterprise_registry',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('credit_code', sa.Text(), nullable=True),
    sa.Column('enterprise_name', sa.Text(), nullable=True),
    sa.Column('legal_rep_name', sa.Text(), nullable=True),
    sa.Column('legal_rep_id', sa.Text(), nullable=True),
    sa.Column('registered_capital', sa.Text(), nullable=True),
    sa.Column('founded_on', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'row_no')
    )
    with op.batch_alter_table('feed_enterprise_registry', schema=None) as batch_op:
        batch_op.create_index('ix_feed_enterprise_registry_key', ['delivery_date', 'credit_code'], unique=False)

    op.create_table('feed_hukou',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('person_no', sa.Text(), nullable=True),
    sa.Column('id_number', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('sex', sa.Text(), nullable=True),
    sa.Column('ethnicity', sa.Text(), nullable=True),
    sa.Column('birth_date', sa.Text(), nullable=True),
    sa.Column('hukou_no', sa.Text(), nullable=True),
    sa.Column('relation', sa.Text(), nullable=True),
    sa.Column('village_code', sa.Text(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), nullable=True),
    sa.Column('changed_on', sa.Text(), nullable=True),
    sa.Column('moved_to', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'row_no')
    )
    with op.batch_alter_table('feed_hukou', schema=None) as batch_op:
        batch_op.create_index('ix_feed_hukou_key', ['delivery_date', 'person_no'], unique=False)

    op.create_table('feed_illness_registry',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('registry_no', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('id_number', sa.Text(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=True),
    sa.Column('disease', sa.Text(), nullable=True),
    sa.Column('diagnosed_on', sa.Text(), nullable=True),
    sa.Column('self_paid', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'row_no')
    )
    with op.batch_alter_table('feed_illness_registry', schema=None) as batch_op:
        batch_op.create_index('ix_feed_illness_registry_key', ['delivery_date', 'registry_no'], unique=False)

    op.create_table('feed_loads',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('feed', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('encoding', sa.String(length=40), nullable=True),
    sa.Column('checksum', sa.String(length=64), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('columns', sa.Text(), nullable=True),
    sa.Column('bad_rows', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('loaded_at', sa.DateTime(), nullable=True),
    sa.Column('validated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'feed')
    )
    op.create_table('feed_medical_insurance',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('insured_no', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('id_number', sa.Text(), nullable=True),
    sa.Column('village_code', sa.Text(), nullable=True),
    sa.Column('year', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), nullable=True),
    sa.Column('critical_illness_cover', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'row_no')
    )
    with op.batch_alter_table('feed_medical_insurance', schema=None) as batch_op:
        batch_op.create_index('ix_feed_medical_insurance_key', ['delivery_date', 'insured_no'], unique=False)

    op.create_table('feed_minimum_living',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('person_no', sa.Text(), nullable=True),
    sa.Column('case_no', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('id_number', sa.Text(), nullable=True),
    sa.Column('village_code', sa.Text(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=True),
    sa.Column('monthly_amount', sa.Text(), nullable=True),
    sa.Column('since', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'row_no')
    )
    with op.batch_alter_table('feed_minimum_living', schema=None) as batch_op:
        batch_op.create_index('ix_feed_minimum_living_key', ['delivery_date', 'person_no'], unique=False)

    op.create_table('feed_poverty_households',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('household_no', sa.Text(), nullable=True),
    sa.Column('head_name', sa.Text(), nullable=True),
    sa.Column('head_id', sa.Text(), nullable=True),
    sa.Column('village_code', sa.Text(), nullable=True),
    sa.Column('category', sa.Text(), nullable=True),
    sa.Column('identified_year', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=True),
    sa.Column('exit_year', sa.Text(), nullable=True),
    sa.Column('main_cause', sa.Text(), nullable=True),
    sa.Column('size', sa.Text(), nullable=True),
    sa.Column('income_per_capita', sa.Text(), nullable=True),
    sa.Column('dibao_income', sa.Text(), nullable=True),
    sa.Column('relocated', sa.Text(), nullable=True),
    sa.Column('moved_in', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'row_no')
    )
    with op.batch_alter_table('feed_poverty_households', schema=None) as batch_op:
        batch_op.create_index('ix_feed_poverty_households_key', ['delivery_date', 'household_no'], unique=False)

    op.create_table('feed_poverty_members',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('member_no', sa.Text(), nullable=True),
    sa.Column('household_no', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('id_number', sa.Text(), nullable=True),
    sa.Column('sex', sa.Text(), nullable=True),
    sa.Column('ethnicity', sa.Text(), nullable=True),
    sa.Column('birth_date', sa.Text(), nullable=True),
    sa.Column('relation', sa.Text(), nullable=True),
    sa.Column('schooling', sa.Text(), nullable=True),
    sa.Column('health', sa.Text(), nullable=True),
    sa.Column('insured', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'row_no')
    )
    with op.batch_alter_table('feed_poverty_members', schema=None) as batch_op:
        batch_op.create_index('ix_feed_poverty_members_key', ['delivery_date', 'member_no'], unique=False)

    op.create_table('feed_public_payroll',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('person_no', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('id_number', sa.Text(), nullable=True),
    sa.Column('employer', sa.Text(), nullable=True),
    sa.Column('hired_on', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'row_no')
    )
    with op.batch_alter_table('feed_public_payroll', schema=None) as batch_op:
        batch_op.create_index('ix_feed_public_payroll_key', ['delivery_date', 'person_no'], unique=False)

    op.create_table('feed_regions',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('code', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('level', sa.Text(), nullable=True),
    sa.Column('is_poor_village', sa.Text(), nullable=True),
    sa.Column('poor_village_exit_year', sa.Text(), nullable=True),
    sa.Column('km_to_county_seat', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'row_no')
    )
    with op.batch_alter_table('feed_regions', schema=None) as batch_op:
        batch_op.create_index('ix_feed_regions_key', ['delivery_date', 'code'], unique=False)

    op.create_table('feed_school_enrolment',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('student_no', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('id_number', sa.Text(), nullable=True),
    sa.Column('sex', sa.Text(), nullable=True),
    sa.Column('birth_date', sa.Text(), nullable=True),
    sa.Column('school', sa.Text(), nullable=True),
    sa.Column('stage', sa.Text(), nullable=True),
    sa.Column('grade', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), nullable=True),
    sa.Column('village_code', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'row_no')
    )
    with op.batch_alter_table('feed_school_enrolment', schema=None) as batch_op:
        batch_op.create_index('ix_feed_school_enrolment_key', ['delivery_date', 'student_no'], unique=False)

    op.create_table('feed_vehicles',
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('plate_no', sa.Text(), nullable=True),
    sa.Column('owner_name', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.Text(), nullable=True),
    sa.Column('vehicle_type', sa.Text(), nullable=True),
    sa.Column('registered_on', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('delivery_date', 'row_no')
    )
    with op.batch_alter_table('feed_vehicles', schema=None) as batch_op:
        batch_op.create_index('ix_feed_vehicles_key', ['delivery_date', 'plate_no'], unique=False)

    op.create_table('findings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('feed', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=True),
    sa.Column('record_key', sa.Text(), nullable=True),
    sa.Column('field', sa.String(length=60), nullable=True),
    sa.Column('check', sa.String(length=40), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index('ix_findings_night_feed', ['delivery_date', 'feed', 'stage'], unique=False)

    op.create_table('region_reference',
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('is_poor_village', sa.String(length=2), nullable=True),
    sa.Column('poor_village_exit_year', sa.String(length=4), nullable=True),
    sa.Column('km_to_county_seat', sa.Float(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )


def downgrade() -> None:
    op.drop_table('region_reference')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_night_feed')

    op.drop_table('findings')
    with op.batch_alter_table('feed_vehicles', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_vehicles_key')

    op.drop_table('feed_vehicles')
    with op.batch_alter_table('feed_school_enrolment', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_school_enrolment_key')

    op.drop_table('feed_school_enrolment')
    with op.batch_alter_table('feed_regions', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_regions_key')

    op.drop_table('feed_regions')
    with op.batch_alter_table('feed_public_payroll', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_public_payroll_key')

    op.drop_table('feed_public_payroll')
    with op.batch_alter_table('feed_poverty_members', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_poverty_members_key')

    op.drop_table('feed_poverty_members')
    with op.batch_alter_table('feed_poverty_households', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_poverty_households_key')

    op.drop_table('feed_poverty_households')
    with op.batch_alter_table('feed_minimum_living', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_minimum_living_key')

    op.drop_table('feed_minimum_living')
    with op.batch_alter_table('feed_medical_insurance', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_medical_insurance_key')

    op.drop_table('feed_medical_insurance')
    op.drop_table('feed_loads')
    with op.batch_alter_table('feed_illness_registry', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_illness_registry_key')

    op.drop_table('feed_illness_registry')
    with op.batch_alter_table('feed_hukou', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_hukou_key')

    op.drop_table('feed_hukou')
    with op.batch_alter_table('feed_enterprise_registry', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_enterprise_registry_key')

    op.drop_table('feed_enterprise_registry')
    with op.batch_alter_table('feed_dangerous_housing', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_dangerous_housing_key')

    op.drop_table('feed_dangerous_housing')
    op.drop_table('deliveries')
