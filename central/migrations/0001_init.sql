-- Boxes enrolled with the central server. acked_seq is the box's cursor:
-- every outbox entry up to it has been applied, in one transaction per batch.
CREATE TABLE boxes (
    box_id        text PRIMARY KEY,
    office        text NOT NULL,
    token_sha256  text NOT NULL UNIQUE,
    created       timestamptz NOT NULL,
    last_contact  timestamptz,
    acked_seq     bigint NOT NULL DEFAULT 0 CHECK (acked_seq >= 0),
    -- How late the newest record of the last applied batch arrived: the
    -- commit time minus the record's end (or start) time.
    last_delay_ms bigint
);

-- One row per call leg and box: the record with the highest revision seen,
-- the main fields as columns for the queries and the whole record as jsonb.
CREATE TABLE calls (
    box_id       text NOT NULL REFERENCES boxes (box_id),
    record_id    text NOT NULL,
    revision     bigint NOT NULL CHECK (revision > 0),
    seq          bigint NOT NULL,
    call_id      text NOT NULL DEFAULT '',
    from_user    text NOT NULL DEFAULT '',
    to_user      text NOT NULL DEFAULT '',
    direction    text NOT NULL DEFAULT '',
    operator     text NOT NULL DEFAULT '',
    invite_at    timestamptz,
    ringing_at   timestamptz,
    answered_at  timestamptz,
    ended_at     timestamptz,
    end_reason   text NOT NULL DEFAULT '',
    hangup_by    text NOT NULL DEFAULT '',
    within_limit boolean NOT NULL DEFAULT false,
    rings        integer NOT NULL DEFAULT 0,
    ring_seconds double precision NOT NULL DEFAULT 0,
    record       jsonb NOT NULL,
    received     timestamptz NOT NULL,
    PRIMARY KEY (box_id, record_id)
);
CREATE INDEX calls_invite_at ON calls (invite_at);
CREATE INDEX calls_box_invite_at ON calls (box_id, invite_at);

-- The outage ledger: every batch that applied entries, in commit order.
CREATE TABLE ingest_log (
    id        bigserial PRIMARY KEY,
    box_id    text NOT NULL REFERENCES boxes (box_id),
    first_seq bigint NOT NULL,
    last_seq  bigint NOT NULL,
    applied   integer NOT NULL,
    upserted  integer NOT NULL,
    at        timestamptz NOT NULL
);
CREATE INDEX ingest_log_box_at ON ingest_log (box_id, at);

-- The key/value store of package access (central accounts, API tokens and
-- their audit chain), one namespace per user of it.
CREATE TABLE kv (
    ns  text NOT NULL,
    key bytea NOT NULL,
    val bytea NOT NULL,
    PRIMARY KEY (ns, key)
);
