-- A read-only BI login on the marts database, granted on schema analytics only (as the
-- README recommends). Run by mssql.yml with sqlcmd; $(BI_PASSWORD) is a sqlcmd scripting
-- variable taken from the environment, so the password is on no command line.
IF SUSER_ID(N'bi_reader') IS NULL
    CREATE LOGIN bi_reader WITH PASSWORD = N'$(BI_PASSWORD)', CHECK_POLICY = OFF;
GO
USE marts;
GO
IF USER_ID(N'bi_reader') IS NULL CREATE USER bi_reader FOR LOGIN bi_reader;
IF SCHEMA_ID(N'analytics') IS NULL EXEC(N'CREATE SCHEMA analytics');
GO
GRANT SELECT ON SCHEMA::analytics TO bi_reader;
