-- The sync target (Azure SQL): the schemas the sync publishes through, the sync's login and
-- a read-only BI login. Run in the target database by its owner (or a member of
-- db_securityadmin and db_ddladmin), for example:
--   sqlcmd -d marts -i sync-target.sql -v SYNC_USER=deltastore_sync BI_USER=bi_reader USER_FROM=LOGIN
-- (USER_FROM: see legacy-reader.sql). The sync loads each mart into a shadow in
-- analytics_sync_stage and publishes all of them in one transaction with ALTER SCHEMA …
-- TRANSFER, the replaced tables going to analytics_sync_retired until they are dropped;
-- sync/grants.py says why it needs exactly these grants, and deltastore doctor (and the sync,
-- before it starts) checks them. BI logins get SELECT on analytics only, so they never see a
-- shadow. Grants on single tables do not survive a publish (ALTER SCHEMA drops them): grant
-- on the schema, as here.
SET NOCOUNT ON;
IF SCHEMA_ID(N'analytics') IS NULL EXEC(N'CREATE SCHEMA [analytics] AUTHORIZATION [dbo]');
IF SCHEMA_ID(N'analytics_sync_stage') IS NULL
    EXEC(N'CREATE SCHEMA [analytics_sync_stage] AUTHORIZATION [dbo]');
IF SCHEMA_ID(N'analytics_sync_retired') IS NULL
    EXEC(N'CREATE SCHEMA [analytics_sync_retired] AUTHORIZATION [dbo]');
DECLARE @create nvarchar(max);
IF USER_ID(N'$(SYNC_USER)') IS NULL
BEGIN
    SET @create = N'CREATE USER ' + QUOTENAME(N'$(SYNC_USER)') + CASE N'$(USER_FROM)'
        WHEN N'EXTERNAL_PROVIDER' THEN N' FROM EXTERNAL PROVIDER'
        ELSE N' FOR LOGIN ' + QUOTENAME(N'$(SYNC_USER)') END;
    EXEC sys.sp_executesql @create;
END;
IF USER_ID(N'$(BI_USER)') IS NULL
BEGIN
    SET @create = N'CREATE USER ' + QUOTENAME(N'$(BI_USER)') + CASE N'$(USER_FROM)'
        WHEN N'EXTERNAL_PROVIDER' THEN N' FROM EXTERNAL PROVIDER'
        ELSE N' FOR LOGIN ' + QUOTENAME(N'$(BI_USER)') END;
    EXEC sys.sp_executesql @create;
END;
GRANT CREATE TABLE TO [$(SYNC_USER)];
GRANT CONTROL ON SCHEMA::[analytics] TO [$(SYNC_USER)];
GRANT CONTROL ON SCHEMA::[analytics_sync_stage] TO [$(SYNC_USER)];
GRANT CONTROL ON SCHEMA::[analytics_sync_retired] TO [$(SYNC_USER)];
GRANT SELECT ON SCHEMA::[analytics] TO [$(BI_USER)];
