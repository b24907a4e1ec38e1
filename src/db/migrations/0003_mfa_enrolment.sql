-- 0003: two-step sign-in set-up in progress. The secret shown on the set-up
-- page (QR code and key) waits here, on the server, until the person proves
-- their app has it by entering a code; only then does it become totp_secret.
-- The browser never sends a secret back, so it cannot choose one.
ALTER TABLE people ADD COLUMN totp_pending_secret TEXT;
ALTER TABLE people ADD COLUMN totp_pending_at BIGINT; -- when it was made; it expires
