-- When the data stored for a product-date was fetched (the start of the attempt that stored it).
-- A store whose own fetch began earlier is refused, so a late answer never replaces newer data.
-- NULL: unknown (rows stored before this column existed); the next store is allowed and sets it.

-- AlterTable
ALTER TABLE "product_date_syncs" ADD COLUMN "data_fetched_at" TIMESTAMPTZ(3);
