-- The legacy kind of Supabase project (created before 2026-05-30, and every project until
-- "no auto-expose" became the default on 2026-10-30): whatever postgres or supabase_admin
-- creates in public is granted ALL to the three API roles. Loaded after
-- supabase-emulation.sql, as supabase_admin.
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
