-- The SQL Server job's four least-privilege logins (mssql.yml), created by `sa` as a DBA
-- would: server logins only. Their database users and grants come from the documented
-- scripts in docs/sql-server/, which the job runs verbatim. The passwords are sqlcmd
-- scripting variables taken from the environment, so no password is on a command line.
CREATE LOGIN deltastore_reader WITH PASSWORD = N'$(READER_PASSWORD)', CHECK_POLICY = OFF;
CREATE LOGIN deltastore_warehouse WITH PASSWORD = N'$(WAREHOUSE_PASSWORD)', CHECK_POLICY = OFF;
CREATE LOGIN deltastore_sync WITH PASSWORD = N'$(SYNC_PASSWORD)', CHECK_POLICY = OFF;
CREATE LOGIN bi_reader WITH PASSWORD = N'$(BI_PASSWORD)', CHECK_POLICY = OFF;
