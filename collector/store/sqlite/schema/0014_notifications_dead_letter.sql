-- Webhook outbox, per webhook: a row that can no longer be delivered (its webhook left the config,
-- or it is older than notify.max_age_s) is dead-lettered (kept, marked, counted) instead of
-- waiting forever; each webhook's queue is read in id order from its own partial index.
ALTER TABLE notifications ADD COLUMN dead_ms INTEGER;
ALTER TABLE notifications ADD COLUMN dead_reason TEXT;   -- orphaned | expired
CREATE INDEX notifications_pending ON notifications (target, id) WHERE delivered_ms IS NULL AND dead_ms IS NULL;
CREATE INDEX notifications_dead ON notifications (dead_ms) WHERE dead_ms IS NOT NULL;
