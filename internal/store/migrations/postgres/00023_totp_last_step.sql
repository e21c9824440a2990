-- +goose Up
-- The time step of the last second-factor code an account used: a code
-- whose step is not after it is refused, so that a code is accepted once
-- (RFC 6238 §5.2). 0: no code used yet.
ALTER TABLE accounts ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- +goose Down
SELECT 'released migrations are never rolled back';
