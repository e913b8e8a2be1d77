-- The newest instant a due mark asks data from (a tick's instant, or the time of the boot rule's
-- mark). A store clears the mark only when its fetch began at or after it, so a tick that lands
-- while the product-date is already in flight gets a fetch of its own instead of being cleared by
-- an answer asked for before it.

-- AlterTable
ALTER TABLE "product_date_syncs" ADD COLUMN "marked_at" TIMESTAMPTZ(3);
