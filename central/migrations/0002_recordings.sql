-- The boxes' recordings (issue 11): each box's record tied to a file kept
-- by its SHA-256 under central.recordings_dir. A row exists only once the
-- file is whole and its hash verified; two records may share one file.
CREATE TABLE recordings (
    box_id      text NOT NULL REFERENCES boxes (box_id),
    record_id   text NOT NULL,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size        bigint NOT NULL CHECK (size > 0),
    received_at timestamptz NOT NULL,
    PRIMARY KEY (box_id, record_id)
);
CREATE INDEX recordings_sha256 ON recordings (sha256);
