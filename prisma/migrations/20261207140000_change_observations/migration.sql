-- What each successful sync saw: whether the product-date's rows changed since its previous
-- successful sync, and how long before (the interval). The accuracy estimate (change rate per
-- horizon, expected fresh reads) is computed from these; one row is appended inside each store's
-- transaction (no shared counter row, so concurrent stores never wait on each other), and rows
-- past the retention are deleted by the estimator.

-- CreateTable
CREATE TABLE "change_observations" (
    "id" BIGSERIAL NOT NULL,
    "product_id" INTEGER NOT NULL,
    "date" DATE NOT NULL,
    "observed_at" TIMESTAMPTZ(3) NOT NULL,
    "interval_seconds" DOUBLE PRECISION NOT NULL,
    "changed" BOOLEAN NOT NULL,

    CONSTRAINT "change_observations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "change_observations_observed_at_idx" ON "change_observations"("observed_at");

-- AddForeignKey
ALTER TABLE "change_observations" ADD CONSTRAINT "change_observations_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;
