-- The warehouse login: `deltastore extract` writes the raw schemas and meta, `deltastore
-- build` (dbt) builds staging, intermediate, analytics, seeds and snapshots, and `deltastore
-- sync` reads analytics and meta and keeps its record of what it published in meta_sync. Run in the warehouse database by its owner (or a
-- member of db_securityadmin), for example:
--   sqlcmd -d warehouse -i warehouse.sql -v WAREHOUSE_USER=deltastore_warehouse USER_FROM=LOGIN
-- (USER_FROM: see legacy-reader.sql). The login creates each schema it writes the first
-- time it needs it and so owns it (new_store, old_store, meta, meta_sync, staging,
-- intermediate, analytics, seeds, snapshots, and dbt_scratch, where dbt's unit tests make
-- their views):
-- everything inside those follows from ownership, and it holds nothing on dbo or any other
-- schema. A schema created beforehand by someone else needs
--   ALTER AUTHORIZATION ON SCHEMA::[name] TO [$(WAREHOUSE_USER)];
-- deltastore doctor checks these (transform/preflight.py; tests keep the two equal).
SET NOCOUNT ON;
DECLARE @create nvarchar(max);
IF USER_ID(N'$(WAREHOUSE_USER)') IS NULL
BEGIN
    SET @create = N'CREATE USER ' + QUOTENAME(N'$(WAREHOUSE_USER)') + CASE N'$(USER_FROM)'
        WHEN N'EXTERNAL_PROVIDER' THEN N' FROM EXTERNAL PROVIDER'
        ELSE N' FOR LOGIN ' + QUOTENAME(N'$(WAREHOUSE_USER)') END;
    EXEC sys.sp_executesql @create;
END;
GRANT CREATE SCHEMA TO [$(WAREHOUSE_USER)];
GRANT CREATE TABLE TO [$(WAREHOUSE_USER)];
GRANT CREATE VIEW TO [$(WAREHOUSE_USER)];
