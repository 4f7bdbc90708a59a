"""Every table, keyed by ``space_id`` wherever personal data lives (shardable by space).

What stays in clear is only what queries need: ids, doctype names, time bounds,
counts, keyed fingerprints, statuses. Every personal value is in a sealed ``body``.
Times are integer epoch milliseconds (UTC) so both engines index and compare them the
same way. docs/threat-model.md lists each clear column and why it is there.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

__all__ = [
    "accounts",
    "audit_checkpoints",
    "audit_events",
    "audit_heads",
    "auth_sessions",
    "connector_accounts",
    "consents",
    "files",
    "metadata",
    "move_offers",
    "oauth_codes",
    "oauth_tokens",
    "record_revisions",
    "records",
    "restrictions",
    "series_chunks",
    "series_streams",
    "services",
    "sources",
    "space_keys",
    "spaces",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(26)

spaces = Table(
    "spaces",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("status", String(16), nullable=False),  # active | suspended | erased
    Column("timezone", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("status_changed_at", BigInteger, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),  # citizen | operator
    Column("space_id", ID, ForeignKey("spaces.id"), nullable=True),
    Column("status", String(16), nullable=False),  # active | disabled
    Column("created_at", BigInteger, nullable=False),
    Column("last_login_at", BigInteger, nullable=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", BigInteger, nullable=True),
)

auth_sessions = Table(
    "auth_sessions",
    metadata,
    Column("id", ID, primary_key=True),
    # SHA-256 of a 256-bit random secret: a leaked table gives no usable token.
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # session | token
    Column("label", String(128), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Index("ix_auth_sessions_account", "account_id"),
)

space_keys = Table(
    "space_keys",
    metadata,
    Column("space_id", ID, ForeignKey("spaces.id"), primary_key=True),
    Column("kek_id", String(32), nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("rewrapped_at", BigInteger, nullable=True),
)

sources = Table(
    "sources",
    metadata,
    Column("space_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("kind", String(16), nullable=False),  # file | connector | manual | move
    Column("fingerprint", LargeBinary(32), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),  # sealed: file name, importer, version…
    UniqueConstraint("space_id", "fingerprint"),
)

records = Table(
    "records",
    metadata,
    Column("space_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("doctype", String(64), nullable=False),
    Column("doctype_version", Integer, nullable=False),
    Column("time_start", BigInteger, nullable=True),
    Column("time_end", BigInteger, nullable=True),
    Column("fingerprint", LargeBinary(32), nullable=True),
    Column("source_id", ID, nullable=True),
    Column("revision", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),
    UniqueConstraint("space_id", "doctype", "fingerprint"),
    Index("ix_records_doctype_time", "space_id", "doctype", "time_start", "id"),
)

series_streams = Table(
    "series_streams",
    metadata,
    Column("space_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("doctype", String(64), nullable=False),
    Column("record_id", ID, nullable=True),  # the parent record (a meter, a track)
    Column("columns", String(256), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("first_ts", BigInteger, nullable=True),
    Column("last_ts", BigInteger, nullable=True),
    Column("source_id", ID, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),  # sealed: label, unit, …
    Index("ix_series_streams_record", "space_id", "record_id"),
)

series_chunks = Table(
    "series_chunks",
    metadata,
    Column("space_id", ID, primary_key=True),
    Column("stream_id", ID, primary_key=True),
    Column("chunk_start", BigInteger, primary_key=True),  # epoch seconds, UTC month start
    Column("points", Integer, nullable=False),
    Column("first_ts", BigInteger, nullable=False),
    Column("last_ts", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),
)

files = Table(
    "files",
    metadata,
    Column("space_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("fingerprint", LargeBinary(32), nullable=False),
    Column("blob_key", String(128), nullable=False),
    Column("source_id", ID, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),  # sealed: file name, media type
    UniqueConstraint("space_id", "fingerprint"),
)

audit_heads = Table(
    "audit_heads",
    metadata,
    Column("space_id", ID, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("head", LargeBinary(32), nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("space_id", ID, primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("prev_hash", LargeBinary(32), nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    Column("body", LargeBinary, nullable=False),  # sealed canonical JSON of the event
)

# -- services, consents, OAuth, log checkpoints (revision 0002) -------------------------

services = Table(
    "services",
    metadata,
    Column("id", String(64), primary_key=True),  # also the OAuth client_id
    Column("version", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # pending | approved | suspended | retired
    Column("manifest", LargeBinary, nullable=False),  # public: canonical JSON of the manifest
    Column("manifest_hash", String(64), nullable=False),
    Column("client_secret_hash", LargeBinary(32), nullable=True),  # confidential clients only
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

consents = Table(
    "consents",
    metadata,
    Column("space_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("service_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # active | withdrawn | expired
    Column("given_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),  # sealed ISO/IEC TS 27560 record and history
    Index("ix_consents_service", "space_id", "service_id", "status"),
)

oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_hash", LargeBinary(32), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("space_id", ID, nullable=False),
    Column("account_id", ID, nullable=False),
    Column("consent_id", ID, nullable=False),
    Column("redirect_uri", String(2000), nullable=False),
    Column("scope", String(2000), nullable=False),
    Column("code_challenge", String(128), nullable=False),
    Column("code_challenge_method", String(16), nullable=False),
    Column("nonce", String(256), nullable=True),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
)

oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("id", ID, primary_key=True),
    Column("access_hash", LargeBinary(32), nullable=False, unique=True),
    Column("refresh_hash", LargeBinary(32), nullable=True, unique=True),
    Column("client_id", String(64), nullable=False),
    Column("space_id", ID, nullable=False),
    Column("consent_id", ID, nullable=False),
    Column("scope", String(2000), nullable=False),
    Column("issued_at", BigInteger, nullable=False),
    Column("access_expires_at", BigInteger, nullable=False),
    Column("refresh_expires_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Column("revoked_reason", String(32), nullable=True),  # revoked | rotated | consent-withdrawn
    Index("ix_oauth_tokens_consent", "space_id", "consent_id"),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("space_id", ID, primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("head", LargeBinary(32), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("signature", String(4000), nullable=False),  # compact JWS by the operator key
)

# -- the citizen's rights (revision 0003) ----------------------------------------------

record_revisions = Table(
    "record_revisions",
    metadata,
    Column("space_id", ID, primary_key=True),
    Column("record_id", ID, primary_key=True),
    Column("revision", Integer, primary_key=True),  # the revision this body was
    Column("doctype", String(64), nullable=False),  # as records.doctype (erasure by doctype)
    Column("changed_at", BigInteger, nullable=False),  # when it was replaced
    Column("actor_kind", String(16), nullable=False),  # citizen | service | …
    # sealed: the previous data, its time bounds and source, who replaced it
    Column("body", LargeBinary, nullable=False),
)

restrictions = Table(
    "restrictions",
    metadata,
    Column("space_id", ID, primary_key=True),
    Column("scope", String(64), primary_key=True),  # "*" (the whole space) or a doctype
    Column("since", BigInteger, nullable=False),
    Column("note", LargeBinary, nullable=True),  # sealed: the citizen's own words, if any
)

# -- moving a space to another instance (revision 0004) ---------------------------------

move_offers = Table(
    "move_offers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code_hash", LargeBinary(32), nullable=False, unique=True),  # SHA-256 of the code
    Column("space_id", ID, nullable=False, index=True),
    Column("status", String(16), nullable=False),  # offered | fetched | confirmed
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # the code is good until then
    Column("fetched_at", BigInteger, nullable=True),
    Column("archive_sha256", String(64), nullable=True),  # of the bytes sent
    Column("confirmed_at", BigInteger, nullable=True),
    # the signed erasure certificate returned at confirmation (a repeated confirmation
    # answers it again); it names the space and the destination, nothing personal
    Column("certificate", String(4000), nullable=True),
)

# -- connector accounts (revision 0005) -------------------------------------------------

connector_accounts = Table(
    "connector_accounts",
    metadata,
    Column("space_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("connector", String(64), nullable=False),  # enedis.dataconnect
    # pending | ok | syncing | failing | needs_reauthorization
    Column("status", String(24), nullable=False),
    Column("doctypes", String(500), nullable=False),  # what the gate lets it write
    Column("reason", String(32), nullable=True),  # failure code (provider-unavailable…)
    Column("attempts", Integer, nullable=False),  # failed syncs in a row
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("last_sync_at", BigInteger, nullable=True),
    Column("next_sync_at", BigInteger, nullable=True),  # when the scheduler takes it
    Column("state_hash", LargeBinary(32), nullable=True, unique=True),  # pending consent
    # sealed: tokens, the provider's id of the account, the cursor, messages
    Column("body", LargeBinary, nullable=False),
    Index("ix_connector_accounts_due", "next_sync_at"),
)
