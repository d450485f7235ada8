"""slack_sdk's installation and OAuth-state tables, declared on our metadata so Alembic owns them.

The OAuth state table has no team_id: a state is issued before any workspace is installed.
"""

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.store.base import Base

slack_bots = SQLAlchemyInstallationStore.build_bots_table(
    metadata=Base.metadata, table_name=SQLAlchemyInstallationStore.default_bots_table_name
)
slack_installations = SQLAlchemyInstallationStore.build_installations_table(
    metadata=Base.metadata,
    table_name=SQLAlchemyInstallationStore.default_installations_table_name,
)
slack_oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    Base.metadata, SQLAlchemyOAuthStateStore.default_table_name
)
