-- Webhook endpoints that can be changed: a description, when they last changed, and the
-- secret a rotation replaced, still signed with until it expires (the receiver's overlap).
-- An endpoint's status is `active`, `disabled` (deliveries wait) or `deleted` (pending
-- deliveries cancelled; the row stays for its deliveries' history).
ALTER TABLE webhook_endpoints ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_expires_at BIGINT;
ALTER TABLE webhook_endpoints ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
