-- The slots answer of each product-date as the read API sends it (JSON text), written by the sync
-- in the transaction that changes the product-date's rows, so a cold read is one primary-key
-- lookup instead of PostgreSQL building the JSON from slots and pax on every request.
-- Not backfilled here: the read falls back to building the JSON live while a product-date has no
-- row, and the next sync of each product-date writes it.

-- CreateTable
CREATE TABLE "slot_answers" (
    "product_id" INTEGER NOT NULL,
    "date" DATE NOT NULL,
    "body" TEXT NOT NULL,

    CONSTRAINT "slot_answers_pkey" PRIMARY KEY ("product_id","date")
);

-- AddForeignKey
ALTER TABLE "slot_answers" ADD CONSTRAINT "slot_answers_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;
