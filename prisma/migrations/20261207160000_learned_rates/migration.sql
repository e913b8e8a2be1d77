-- What the value rule (issue 26) learns. Each product-date's change statistics are four decayed
-- sums (src/inventory/policy/learned-rates.ts) kept on its sync row and updated by the store's
-- own write; the leader sums them per product and horizon into change_rate_pools (the priors of a
-- product-date with few observations); read_demand holds a decayed read count per product-date,
-- flushed in batches by every instance (several write the same rows: INSERT … ON CONFLICT).

-- AlterTable
ALTER TABLE "product_date_syncs" ADD COLUMN     "obs_changed" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "obs_changed_seconds" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "obs_unchanged" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "obs_unchanged_seconds" DOUBLE PRECISION NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "change_rate_pools" (
    "product_id" INTEGER NOT NULL,
    "horizon" VARCHAR(16) NOT NULL,
    "changed" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "changed_seconds" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "unchanged" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "unchanged_seconds" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "change_rate_pools_pkey" PRIMARY KEY ("product_id","horizon")
);

-- CreateTable
CREATE TABLE "read_demand" (
    "product_id" INTEGER NOT NULL,
    "date" DATE NOT NULL,
    "reads" DOUBLE PRECISION NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "read_demand_pkey" PRIMARY KEY ("product_id","date")
);

-- AddForeignKey
ALTER TABLE "change_rate_pools" ADD CONSTRAINT "change_rate_pools_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "read_demand" ADD CONSTRAINT "read_demand_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;
