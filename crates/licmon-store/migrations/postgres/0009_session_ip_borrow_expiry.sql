-- licmon schema: what a status utility says about a checkout beyond who and where (PostgreSQL).
-- Append-only. The client's IP address (LM-X, custom XML) and when a borrowed or lingering
-- license returns to the server (FlexNet linger, custom XML `borrow-expires`), Unix ms UTC.
-- NULL where the source does not say: imported logs and agents never do. A later poll that
-- shows another value replaces it (a renewed borrow); one that shows none keeps it.
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN borrow_expires_at BIGINT;
