-- The legacy database as the original shop keeps it: tables in schema old_store and
-- timestamps as datetime (not datetime2). Run by mssql.yml after `deltastore demo-data
-- legacy` has written the demo tables into dbo; tests/mssql/test_mssql_compare_offline.py
-- checks that every timestamp column of OLD_STORE_TABLES is converted here.
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
COMMIT;
