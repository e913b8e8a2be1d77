-- The change feed (issue 27): a transactional outbox. The sync's store transaction inserts one
-- row per product-date whose rows it changed, so a change without its event (or an event without
-- its change) cannot commit. `position` is the consumers' cursor: it is null until the feed's
-- publisher numbers the committed events in order (see ChangeEventsRepository.publish), because a
-- bigserial taken inside concurrent transactions becomes visible out of order and a consumer
-- reading "after N" would skip an event that commits later with a smaller number.

-- CreateTable
CREATE TABLE "change_events" (
    "id" BIGSERIAL NOT NULL,
    "position" BIGINT,
    "type" VARCHAR(32) NOT NULL,
    "product_id" INTEGER NOT NULL,
    "date" DATE,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "change_events_pkey" PRIMARY KEY ("id")
);

-- The feed's single bookkeeping row: the last position given out and the newest one pruned.
CREATE TABLE "change_feed_state" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "last_position" BIGINT NOT NULL DEFAULT 0,
    "pruned_through" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "change_feed_state_pkey" PRIMARY KEY ("id")
);
INSERT INTO "change_feed_state" ("id") VALUES (1);

-- CreateIndex
CREATE UNIQUE INDEX "change_events_position_key" ON "change_events"("position");
CREATE INDEX "change_events_product_id_position_idx" ON "change_events"("product_id", "position");
CREATE INDEX "change_events_created_at_idx" ON "change_events"("created_at");

-- Webhook subscriptions (managed with the admin token) and their deliveries: one row per event
-- and subscription, queued in the publisher's transaction, claimed by one instance at a time
-- (FOR UPDATE SKIP LOCKED, then a lease in locked_until), in order per subscription and
-- product-date.

-- CreateTable
CREATE TABLE "webhook_subscriptions" (
    "id" VARCHAR(40) NOT NULL,
    "url" VARCHAR(2048) NOT NULL,
    "event_types" JSONB NOT NULL,
    "product_ids" JSONB NOT NULL,
    "secrets" JSONB NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "disabled_reason" VARCHAR(2000),
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "last_error" VARCHAR(2000),
    "last_error_at" TIMESTAMPTZ(3),
    "last_success_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "subscription_id" VARCHAR(40) NOT NULL,
    "msg_id" VARCHAR(64) NOT NULL,
    "type" VARCHAR(32) NOT NULL,
    "product_id" INTEGER,
    "date" DATE,
    "body" TEXT NOT NULL,
    "state" VARCHAR(16) NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "locked_until" TIMESTAMPTZ(3),
    "last_error" VARCHAR(2000),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_deliveries_state_next_attempt_at_idx" ON "webhook_deliveries"("state", "next_attempt_at");
CREATE INDEX "webhook_deliveries_subscription_id_product_id_date_id_idx" ON "webhook_deliveries"("subscription_id", "product_id", "date", "id");
CREATE INDEX "webhook_deliveries_finished_at_idx" ON "webhook_deliveries"("finished_at");

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "webhook_subscriptions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
