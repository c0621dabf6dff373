-- The legacy database as the original shop keeps it: tables in schema old_store,
-- timestamps as datetime (not datetime2), free text as NVARCHAR(MAX). Run by mssql.yml
-- after `deltastore demo-data legacy` has written the demo tables into dbo;
-- tests/mssql/test_mssql_scripts_offline.py checks that every timestamp column of
-- OLD_STORE_TABLES and every old-store column of FREE_TEXT is converted here.
SET XACT_ABORT ON;
BEGIN TRANSACTION;
EXEC('CREATE SCHEMA old_store');
ALTER SCHEMA old_store TRANSFER dbo.customers;
ALTER SCHEMA old_store TRANSFER dbo.products;
ALTER SCHEMA old_store TRANSFER dbo.suppliers;
ALTER SCHEMA old_store TRANSFER dbo.orders;
ALTER SCHEMA old_store TRANSFER dbo.order_items;
ALTER SCHEMA old_store TRANSFER dbo.payment;
ALTER SCHEMA old_store TRANSFER dbo.reviews;
ALTER SCHEMA old_store TRANSFER dbo.shipments;
ALTER TABLE old_store.customers ALTER COLUMN created_at DATETIME NULL;
ALTER TABLE old_store.customers ALTER COLUMN updated_at DATETIME NULL;
ALTER TABLE old_store.products ALTER COLUMN updated_at DATETIME NULL;
ALTER TABLE old_store.orders ALTER COLUMN order_date DATETIME NULL;
ALTER TABLE old_store.orders ALTER COLUMN updated_at DATETIME NULL;
ALTER TABLE old_store.reviews ALTER COLUMN review_date DATETIME NULL;
ALTER TABLE old_store.shipments ALTER COLUMN shipment_date DATETIME NULL;
ALTER TABLE old_store.shipments ALTER COLUMN delivery_date DATETIME NULL;
ALTER TABLE old_store.shipments ALTER COLUMN updated_at DATETIME NULL;
-- Free text as legacy schemas usually keep it (the generator writes NVARCHAR(4000)).
ALTER TABLE old_store.customers ALTER COLUMN address NVARCHAR(MAX) NULL;
ALTER TABLE old_store.suppliers ALTER COLUMN address NVARCHAR(MAX) NULL;
ALTER TABLE old_store.products ALTER COLUMN product_name NVARCHAR(MAX) NULL;
ALTER TABLE old_store.reviews ALTER COLUMN review_text NVARCHAR(MAX) NULL;
COMMIT;
