"""initial ratings

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 05:37:34.668084

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """The ratings tables and its registry copy."""
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('region_path', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('dimensions', sa.JSON(), nullable=False),
    sa.Column('participation_threshold', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('closes_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaigns_region_path'), ['region_path'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaigns_year'), ['year'], unique=False)

    op.create_table('company_copies',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('state_owned', sa.Boolean(), nullable=False),
    sa.Column('party_organization_form', sa.String(length=20), nullable=False),
    sa.Column('source_time', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company_copies'))
    )
    op.create_table('compound_copies',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('region_path', sa.String(length=200), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('owner_organization_id', sa.Integer(), nullable=True),
    sa.Column('management_mode', sa.String(length=20), nullable=False),
    sa.Column('three_without', sa.Boolean(), nullable=False),
    sa.Column('source_time', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compound_copies'))
    )
    with op.batch_alter_table('compound_copies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compound_copies_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_compound_copies_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_compound_copies_region_path'), ['region_path'], unique=False)

    op.create_table('department_copies',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('source_time', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department_copies')),
    sa.UniqueConstraint('code', name=op.f('uq_department_copies_code'))
    )
    op.create_table('idempotency_records',
    sa.Column('scope', sa.String(length=300), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_idempotency_records'))
    )
    op.create_table('inbox',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('handler', sa.String(length=120), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'handler', name=op.f('pk_inbox'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('event_type', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('envelope', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_event_id'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_published_at'), ['published_at'], unique=False)

    op.create_table('region_copies',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('source_time', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_region_copies'))
    )
    with op.batch_alter_table('region_copies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_region_copies_path'), ['path'], unique=False)

    op.create_table('rule_tables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_tables'))
    )
    with op.batch_alter_table('rule_tables', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_tables_county_id'), ['county_id'], unique=False)

    op.create_table('sync_state',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('synced_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_sync_state'))
    )
    op.create_table('ticket_outcomes',
    sa.Column('ticket_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_on_time', sa.Boolean(), nullable=True),
    sa.Column('rated_at', sa.DateTime(), nullable=True),
    sa.Column('satisfaction', sa.String(length=30), nullable=True),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_outcomes'))
    )
    with op.batch_alter_table('ticket_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_outcomes_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_outcomes_year'), ['year'], unique=False)

    op.create_table('ballots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('room', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('cast_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_ballots_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballots')),
    sa.UniqueConstraint('campaign_id', 'compound_id', 'room', name='uq_ballots_household')
    )
    op.create_table('campaign_compounds',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('votes', sa.Integer(), nullable=True),
    sa.Column('participation', sa.Float(), nullable=True),
    sa.Column('valid', sa.Boolean(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('dimension_scores', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_compounds_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('campaign_id', 'compound_id', name=op.f('pk_campaign_compounds'))
    )
    with op.batch_alter_table('campaign_compounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_compounds_company_id'), ['company_id'], unique=False)

    op.create_table('credit_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=True),
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('region_path', sa.String(length=200), nullable=False),
    sa.Column('rule_table_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=40), nullable=False),
    sa.Column('item_name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('veto', sa.Boolean(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('authority', sa.String(length=20), nullable=False),
    sa.Column('evidence_kind', sa.String(length=20), nullable=True),
    sa.Column('evidence_ref', sa.String(length=100), nullable=True),
    sa.Column('evidence_note', sa.Text(), nullable=True),
    sa.Column('source_event_id', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('objection', sa.Text(), nullable=True),
    sa.Column('objected_by', sa.Integer(), nullable=True),
    sa.Column('objected_at', sa.DateTime(), nullable=True),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['rule_table_id'], ['rule_tables.id'], name=op.f('fk_credit_records_rule_table_id_rule_tables')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_records')),
    sa.UniqueConstraint('source_event_id', name=op.f('uq_credit_records_source_event_id'))
    )
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.create_index('ix_credit_records_company_dates', ['company_id', 'occurred_on', 'valid_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_records_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_records_county_id'), ['county_id'], unique=False)

    op.create_table('star_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('county_path', sa.String(length=200), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('rule_table_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('as_of', sa.DateTime(), nullable=False),
    sa.Column('notice_until', sa.DateTime(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('noticed_at', sa.DateTime(), nullable=True),
    sa.Column('finalized_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['rule_table_id'], ['rule_tables.id'], name=op.f('fk_star_ratings_rule_table_id_rule_tables')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_star_ratings')),
    sa.UniqueConstraint('county_id', 'year', name='uq_star_ratings_county_year')
    )
    op.create_table('demonstration_projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=True),
    sa.Column('evaluation_score', sa.Float(), nullable=True),
    sa.Column('credit_score', sa.Float(), nullable=True),
    sa.Column('credit_record_id', sa.Integer(), nullable=True),
    sa.Column('selected_by', sa.Integer(), nullable=True),
    sa.Column('selected_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['credit_record_id'], ['credit_records.id'], name=op.f('fk_demonstration_projects_credit_record_id_credit_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demonstration_projects')),
    sa.UniqueConstraint('county_id', 'year', 'compound_id', name='uq_demonstration_projects')
    )
    op.create_table('rectifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=True),
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('region_path', sa.String(length=200), nullable=False),
    sa.Column('star_rating_id', sa.Integer(), nullable=True),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('issued_by', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['star_rating_id'], ['star_ratings.id'], name=op.f('fk_rectifications_star_rating_id_star_ratings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectifications'))
    )
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectifications_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rectifications_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_rectifications_region_path'), ['region_path'], unique=False)
        batch_op.create_index(batch_op.f('ix_rectifications_status'), ['status'], unique=False)

    op.create_table('star_rating_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('star_rating_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('evaluation_score', sa.Float(), nullable=True),
    sa.Column('credit_score', sa.Float(), nullable=True),
    sa.Column('credit_grade', sa.String(length=10), nullable=True),
    sa.Column('ticket_score', sa.Float(), nullable=True),
    sa.Column('veto', sa.Boolean(), nullable=False),
    sa.Column('composite', sa.Float(), nullable=True),
    sa.Column('computed_stars', sa.Integer(), nullable=True),
    sa.Column('stars', sa.Integer(), nullable=True),
    sa.Column('objection', sa.Text(), nullable=True),
    sa.Column('objection_status', sa.String(length=10), nullable=True),
    sa.Column('objected_by', sa.Integer(), nullable=True),
    sa.Column('objected_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['star_rating_id'], ['star_ratings.id'], name=op.f('fk_star_rating_entries_star_rating_id_star_ratings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_star_rating_entries')),
    sa.UniqueConstraint('star_rating_id', 'company_id', name='uq_star_rating_entries_company')
    )
    op.create_table('elimination_recommendations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rectification_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('owner_organization_id', sa.Integer(), nullable=True),
    sa.Column('region_path', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['rectification_id'], ['rectifications.id'], name=op.f('fk_elimination_recommendations_rectification_id_rectifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_elimination_recommendations'))
    )
    with op.batch_alter_table('elimination_recommendations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_elimination_recommendations_compound_id'), ['compound_id'], unique=False)

    op.create_table('rectification_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rectification_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_account_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['rectification_id'], ['rectifications.id'], name=op.f('fk_rectification_steps_rectification_id_rectifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_steps'))
    )
    with op.batch_alter_table('rectification_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_steps_rectification_id'), ['rectification_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rectification_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectification_steps_rectification_id'))

    op.drop_table('rectification_steps')
    with op.batch_alter_table('elimination_recommendations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_elimination_recommendations_compound_id'))

    op.drop_table('elimination_recommendations')
    op.drop_table('star_rating_entries')
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectifications_status'))
        batch_op.drop_index(batch_op.f('ix_rectifications_region_path'))
        batch_op.drop_index(batch_op.f('ix_rectifications_deadline'))
        batch_op.drop_index(batch_op.f('ix_rectifications_company_id'))

    op.drop_table('rectifications')
    op.drop_table('demonstration_projects')
    op.drop_table('star_ratings')
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_records_county_id'))
        batch_op.drop_index(batch_op.f('ix_credit_records_compound_id'))
        batch_op.drop_index('ix_credit_records_company_dates')

    op.drop_table('credit_records')
    with op.batch_alter_table('campaign_compounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_compounds_company_id'))

    op.drop_table('campaign_compounds')
    op.drop_table('ballots')
    with op.batch_alter_table('ticket_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_outcomes_year'))
        batch_op.drop_index(batch_op.f('ix_ticket_outcomes_company_id'))

    op.drop_table('ticket_outcomes')
    op.drop_table('sync_state')
    with op.batch_alter_table('rule_tables', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_tables_county_id'))

    op.drop_table('rule_tables')
    with op.batch_alter_table('region_copies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_region_copies_path'))

    op.drop_table('region_copies')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_published_at'))

    op.drop_table('outbox')
    op.drop_table('inbox')
    op.drop_table('idempotency_records')
    op.drop_table('department_copies')
    with op.batch_alter_table('compound_copies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compound_copies_region_path'))
        batch_op.drop_index(batch_op.f('ix_compound_copies_company_id'))
        batch_op.drop_index(batch_op.f('ix_compound_copies_community_id'))

    op.drop_table('compound_copies')
    op.drop_table('company_copies')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_year'))
        batch_op.drop_index(batch_op.f('ix_campaigns_region_path'))
        batch_op.drop_index(batch_op.f('ix_campaigns_published_at'))

    op.drop_table('campaigns')
