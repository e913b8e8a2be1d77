-- A product whose calls keep failing (a partner that hangs on it, a product it no longer knows)
-- backs off as a whole: after a few consecutive failures across its dates it is taken at most one
-- date at a time, as a probe, after a growing wait, and behind the other products' dates. Kept
-- here, not in the leader's memory, so a new leader neither forgets it nor relearns it with
-- calls; any instance's status shows it. A success of any of its dates deletes the row.

-- CreateTable
CREATE TABLE "product_sync_backoffs" (
    "product_id" INTEGER NOT NULL,
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "since" TIMESTAMPTZ(3),
    "probe_failures" INTEGER NOT NULL DEFAULT 0,
    "last_failure_at" TIMESTAMPTZ(3) NOT NULL,
    "next_probe_at" TIMESTAMPTZ(3),
    "last_outcome" VARCHAR(32),

    CONSTRAINT "product_sync_backoffs_pkey" PRIMARY KEY ("product_id")
);

-- AddForeignKey
ALTER TABLE "product_sync_backoffs" ADD CONSTRAINT "product_sync_backoffs_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;
