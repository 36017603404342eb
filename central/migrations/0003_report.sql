-- The month's procedure on the central server (issues 10 and 11).
--
-- The console follows a transfer by its target's SIP Call-ID.
CREATE INDEX calls_call_id ON calls (call_id);

-- Why a box's record's recording must be kept: a sampled call (report
-- Keeper). The central server deletes no recording today, so this is the
-- record of the protection a future central retention must honour, and
-- what the procedure's release after approval + keep_months clears.
CREATE TABLE recording_keep (
    box_id    text NOT NULL REFERENCES boxes (box_id),
    record_id text NOT NULL,
    reason    text NOT NULL CHECK (reason <> ''),
    set_at    timestamptz NOT NULL,
    PRIMARY KEY (box_id, record_id)
);
