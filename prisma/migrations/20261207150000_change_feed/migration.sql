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
