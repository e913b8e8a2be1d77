-- Work as data: the due list lives on product_date_syncs (one row per product-date, so windows
-- marking the same product-date share one entry), and a run records what it marked due.

-- AlterTable
ALTER TABLE "product_date_syncs"
    ADD COLUMN "due_since" TIMESTAMPTZ(3),
    ADD COLUMN "due_window" VARCHAR(32),
    ADD COLUMN "due_priority" INTEGER NOT NULL DEFAULT 1,
    ADD COLUMN "due_deadline" TIMESTAMPTZ(3),
    ADD COLUMN "target_seconds" INTEGER,
    ADD COLUMN "failed_attempts" INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN "next_attempt_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "sync_runs"
    ADD COLUMN "scope" JSONB,
    ADD COLUMN "remaining" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "product_date_syncs_due_since_idx" ON "product_date_syncs"("due_since");
