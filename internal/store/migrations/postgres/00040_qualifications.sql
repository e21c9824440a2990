-- +goose Up
-- People's qualifications and training (qualification.Qualification):
-- recorded by whoever trained the person, granted by quality assurance's
-- signature, valid from granted_at until valid_until unless revoked. The
-- shop floor, the laboratory and the doors check them before the act.
CREATE TABLE qualifications (
    id             UUID PRIMARY KEY,
    person_id      UUID NOT NULL REFERENCES people(id),
    kind           TEXT NOT NULL,
    subject        TEXT NOT NULL,
    master_version INTEGER NOT NULL,
    granted_at     TIMESTAMPTZ NOT NULL,
    valid_until    TIMESTAMPTZ NOT NULL,
    evidence       TEXT NOT NULL,
    status         TEXT NOT NULL,
    recorded_by    UUID NOT NULL REFERENCES accounts(id),
    granted_by     UUID REFERENCES accounts(id),
    revoked_at     TIMESTAMPTZ,
    revoke_reason  TEXT NOT NULL DEFAULT '',
    revision       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX qualifications_person ON qualifications(person_id, kind);
CREATE INDEX qualifications_until ON qualifications(valid_until);

-- The account a person of the staff signs in with, if any: the shop
-- floor checks the qualifications of the person behind the account.
ALTER TABLE people ADD COLUMN account_id UUID REFERENCES accounts(id);
CREATE UNIQUE INDEX people_account ON people(account_id);

-- +goose Down
SELECT 'released migrations are never rolled back';
