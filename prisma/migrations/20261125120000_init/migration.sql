-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "products" (
    "id" INTEGER NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "products_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "slots" (
    "id" SERIAL NOT NULL,
    "product_id" INTEGER NOT NULL,
    "date" DATE NOT NULL,
    "start_time" VARCHAR(5) NOT NULL,
    "end_time" VARCHAR(5) NOT NULL,
    "provider_slot_id" VARCHAR(255) NOT NULL,
    "variant_id" INTEGER NOT NULL,
    "remaining" INTEGER NOT NULL,
    "currency_code" VARCHAR(8) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "slots_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pax_availability" (
    "id" SERIAL NOT NULL,
    "slot_id" INTEGER NOT NULL,
    "type" VARCHAR(64) NOT NULL,
    "position" INTEGER NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "description" VARCHAR(1000) NOT NULL,
    "min" INTEGER NOT NULL,
    "max" INTEGER NOT NULL,
    "remaining" INTEGER NOT NULL,
    "is_primary" BOOLEAN NOT NULL DEFAULT false,
    "final_price" DECIMAL(14,4) NOT NULL,
    "original_price" DECIMAL(14,4) NOT NULL,
    "discount" DECIMAL(14,4) NOT NULL,
    "currency_code" VARCHAR(8) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pax_availability_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "product_date_syncs" (
    "product_id" INTEGER NOT NULL,
    "date" DATE NOT NULL,
    "last_attempt_at" TIMESTAMPTZ(3),
    "last_success_at" TIMESTAMPTZ(3),
    "last_changed_at" TIMESTAMPTZ(3),
    "last_outcome" VARCHAR(32),
    "last_error" VARCHAR(2000),
    "content_hash" VARCHAR(64),
    "slot_count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "product_date_syncs_pkey" PRIMARY KEY ("product_id","date")
);

-- CreateTable
CREATE TABLE "sync_runs" (
    "id" SERIAL NOT NULL,
    "window" VARCHAR(32) NOT NULL,
    "trigger" VARCHAR(16) NOT NULL,
    "scheduled_for" TIMESTAMPTZ(3) NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "outcome" VARCHAR(16) NOT NULL,
    "planned" INTEGER NOT NULL DEFAULT 0,
    "succeeded" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "changed" INTEGER NOT NULL DEFAULT 0,
    "deduplicated" INTEGER NOT NULL DEFAULT 0,
    "error" VARCHAR(2000),
    "instance_id" VARCHAR(128),
    "occurrence" VARCHAR(80),

    CONSTRAINT "sync_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sync_control" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "changed_by" VARCHAR(128),
    "reason" VARCHAR(500),

    CONSTRAINT "sync_control_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "leader_leases" (
    "name" VARCHAR(64) NOT NULL,
    "holder_id" VARCHAR(128) NOT NULL,
    "fence" BIGINT NOT NULL DEFAULT 1,
    "acquired_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "renewed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "state" JSONB,

    CONSTRAINT "leader_leases_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "slots_product_id_date_start_time_idx" ON "slots"("product_id", "date", "start_time");

-- CreateIndex
CREATE UNIQUE INDEX "slots_product_id_provider_slot_id_key" ON "slots"("product_id", "provider_slot_id");

-- CreateIndex
CREATE UNIQUE INDEX "pax_availability_slot_id_type_key" ON "pax_availability"("slot_id", "type");

-- CreateIndex
CREATE INDEX "product_date_syncs_date_idx" ON "product_date_syncs"("date");

-- CreateIndex
CREATE UNIQUE INDEX "sync_runs_occurrence_key" ON "sync_runs"("occurrence");

-- CreateIndex
CREATE INDEX "sync_runs_window_started_at_idx" ON "sync_runs"("window", "started_at");

-- CreateIndex
CREATE INDEX "sync_runs_started_at_idx" ON "sync_runs"("started_at");

-- AddForeignKey
ALTER TABLE "slots" ADD CONSTRAINT "slots_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pax_availability" ADD CONSTRAINT "pax_availability_slot_id_fkey" FOREIGN KEY ("slot_id") REFERENCES "slots"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "product_date_syncs" ADD CONSTRAINT "product_date_syncs_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE CASCADE ON UPDATE CASCADE;

