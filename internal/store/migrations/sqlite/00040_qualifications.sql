-- +goose Up
-- People's qualifications and training (qualification.Qualification):
-- recorded by whoever trained the person, granted by quality assurance's
-- signature, valid from granted_at until valid_until unless revoked. The
-- shop floor, the laboratory and the doors check them before the act.
CREATE TABLE qualifications (
    id             TEXT PRIMARY KEY,
    person_id      TEXT NOT NULL REFERENCES people(id),
    kind           TEXT NOT NULL,
    subject        TEXT NOT NULL,
    master_version INTEGER NOT NULL,
    granted_at     TIMESTAMP NOT NULL,
    valid_until    TIMESTAMP NOT NULL,
    evidence       TEXT NOT NULL,
    status         TEXT NOT NULL,
    recorded_by    TEXT NOT NULL REFERENCES accounts(id),
    granted_by     TEXT REFERENCES accounts(id),
    revoked_at     TIMESTAMP,
    revoke_reason  TEXT NOT NULL DEFAULT '',
    revision       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX qualifications_person ON qualifications(person_id, kind);
CREATE INDEX qualifications_until ON qualifications(valid_until);

-- The account a person of the staff signs in with, if any: the shop
-- floor checks the qualifications of the person behind the account.
ALTER TABLE people ADD COLUMN account_id TEXT REFERENCES accounts(id);
CREATE UNIQUE INDEX people_account ON people(account_id);

-- +goose Down
SELECT 'released migrations are never rolled back';
