-- The legacy reader: the login `deltastore extract --source legacy-db` uses on the old
-- store's database. Run in that database by its owner (or a member of db_securityadmin),
-- for example:
--   sqlcmd -d legacy -i legacy-reader.sql -v READER_USER=deltastore_reader LEGACY_SCHEMA=dbo USER_FROM=LOGIN
-- USER_FROM=LOGIN maps an existing SQL Server login of the same name; USER_FROM=
-- EXTERNAL_PROVIDER creates a user for a Microsoft Entra identity (a managed identity's or
-- an application's display name) on Azure SQL. Nothing else is granted: SELECT on the
-- eight tables the extract reads, and VIEW CHANGE TRACKING on them, which reading
-- CHANGETABLE needs where Change Tracking is on (docs/sql-server.md, Change Tracking).
-- deltastore doctor checks these (extract/preflight.py; tests keep the two equal).
SET NOCOUNT ON;
DECLARE @create nvarchar(max);
IF USER_ID(N'$(READER_USER)') IS NULL
BEGIN
    SET @create = N'CREATE USER ' + QUOTENAME(N'$(READER_USER)') + CASE N'$(USER_FROM)'
        WHEN N'EXTERNAL_PROVIDER' THEN N' FROM EXTERNAL PROVIDER'
        ELSE N' FOR LOGIN ' + QUOTENAME(N'$(READER_USER)') END;
    EXEC sys.sp_executesql @create;
END;
GRANT SELECT ON [$(LEGACY_SCHEMA)].[customers] TO [$(READER_USER)];
GRANT SELECT ON [$(LEGACY_SCHEMA)].[products] TO [$(READER_USER)];
GRANT SELECT ON [$(LEGACY_SCHEMA)].[suppliers] TO [$(READER_USER)];
GRANT SELECT ON [$(LEGACY_SCHEMA)].[orders] TO [$(READER_USER)];
GRANT SELECT ON [$(LEGACY_SCHEMA)].[order_items] TO [$(READER_USER)];
GRANT SELECT ON [$(LEGACY_SCHEMA)].[payment] TO [$(READER_USER)];
GRANT SELECT ON [$(LEGACY_SCHEMA)].[reviews] TO [$(READER_USER)];
GRANT SELECT ON [$(LEGACY_SCHEMA)].[shipments] TO [$(READER_USER)];
GRANT VIEW CHANGE TRACKING ON [$(LEGACY_SCHEMA)].[customers] TO [$(READER_USER)];
GRANT VIEW CHANGE TRACKING ON [$(LEGACY_SCHEMA)].[products] TO [$(READER_USER)];
GRANT VIEW CHANGE TRACKING ON [$(LEGACY_SCHEMA)].[suppliers] TO [$(READER_USER)];
GRANT VIEW CHANGE TRACKING ON [$(LEGACY_SCHEMA)].[orders] TO [$(READER_USER)];
GRANT VIEW CHANGE TRACKING ON [$(LEGACY_SCHEMA)].[order_items] TO [$(READER_USER)];
GRANT VIEW CHANGE TRACKING ON [$(LEGACY_SCHEMA)].[payment] TO [$(READER_USER)];
GRANT VIEW CHANGE TRACKING ON [$(LEGACY_SCHEMA)].[reviews] TO [$(READER_USER)];
GRANT VIEW CHANGE TRACKING ON [$(LEGACY_SCHEMA)].[shipments] TO [$(READER_USER)];
