-- +goose Up
-- The first answer of an idempotent write keeps its ETag (a retried update
-- gets the version it made, for its next If-Match), and says when it was
-- withheld: an answer holding a secret shown only once (a machine token, a
-- second factor's seed) keeps its status and never its body.
ALTER TABLE idempotency_keys ADD COLUMN etag TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN withheld BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
SELECT 'released migrations are never rolled back';
