-- Bright Run on one shared PostgreSQL / Supabase database: row-level security per tenant.
--
-- An add-on to the normal schema, for a deployment where several businesses share one
-- database. Run it after the schema exists (see sql/README.md), as the role that owns the
-- tables (`postgres` in Supabase's SQL editor). It is idempotent: run it again after every
-- schema upgrade, so tables added by a new migration get the same treatment.
--
-- What it does
--   * every business-data table gets a `tenant` column, filled in by default with the tenant
--     of whoever inserts the row, so the app inserts exactly as before;
--   * unique constraints that must hold per business become (tenant, ...) ones, so two
--     businesses can both have conversation T1-001, persona marcus_thompson, the same
--     imported file and the same prompt template;
--   * row level security is enabled AND forced on those tables (forced: the table owner is
--     held to it too), with one policy: a row is visible, updatable and insertable only when
--     its tenant is the current tenant;
--   * the role `brightrun_app` gets the privileges the app needs; each business logs in with
--     its own role that is a member of brightrun_app:
--         CREATE ROLE acme LOGIN PASSWORD '...' IN ROLE brightrun_app;
--
-- Who is the current tenant: public.brightrun_tenant()
--   * the login role (current_user), for the app, the CLI and workers, which connect with
--     each business's own role: simple, and nothing a client sends can change it;
--   * for Supabase's Data API (PostgREST), which runs every request as the role
--     `authenticated`: the `tenant` claim of the request's verified JWT
--     (current_setting('request.jwt.claims')::json ->> 'tenant'; add the claim with a custom
--     access token hook). No claim means no tenant, so no rows.
--   The JWT claim counts ONLY for `authenticated`: any other role could SET
--   request.jwt.claims itself and claim to be another business.
--
-- Limits worth knowing
--   * ids come from sequences shared by all tenants: a tenant sees gaps in its ids.
--   * Superusers and roles with BYPASSRLS (e.g. Supabase's service_role) see every row.
--   * Schema upgrades (`brightrun init` with a newer version) run as the table owner, then
--     this script again; tenant roles cannot create or alter tables.
--   * schema_migrations is shared and read-only for tenants.

BEGIN;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'brightrun_app') THEN
    CREATE ROLE brightrun_app NOLOGIN;
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION public.brightrun_tenant() RETURNS text
LANGUAGE sql STABLE
AS $$
  SELECT CASE
    WHEN current_user = 'authenticated'
      THEN nullif(current_setting('request.jwt.claims', true), '')::json ->> 'tenant'
    ELSE current_user::text
  END
$$;

COMMENT ON FUNCTION public.brightrun_tenant() IS
  'Bright Run tenant of the current session: the login role, or the JWT tenant claim for Supabase''s authenticated role';

-- Unique constraints that become per tenant: (table, old constraint, columns after tenant).
CREATE TEMPORARY TABLE brightrun_per_tenant_unique (table_name text, old_name text, cols text) ON COMMIT DROP;
INSERT INTO brightrun_per_tenant_unique VALUES
  ('advisor_profiles',    'uq_advisor_profiles_key',               'key'),
  ('personas',            'uq_personas_key',                       'key'),
  ('emotions',            'uq_emotions_key',                       'key'),
  ('emotional_arcs',      'uq_emotional_arcs_key',                 'key'),
  ('topics',              'uq_topics_key',                         'key'),
  ('scenarios',           'uq_scenarios_key',                      'key'),
  ('edge_cases',          'uq_edge_cases_key',                     'key'),
  ('vocabulary',          'uq_vocabulary_kind_key',                'kind, key'),
  ('prompt_templates',    'uq_prompt_templates_name_content_hash', 'name, content_hash'),
  ('conversations',       'uq_conversations_key',                  'key'),
  ('imported_files',      'uq_imported_files_content_hash',        'content_hash'),
  ('document_categories', 'uq_document_categories_name',           'name'),
  ('documents',           'uq_documents_source_path',              'source_path'),
  ('documents',           'uq_documents_content_hash',             'content_hash'),
  ('chunks',              'uq_chunks_chunk_id',                    'chunk_id'),
  ('chunk_dimensions',    'uq_chunk_dimensions_chunk_id',          'chunk_id'),
  ('scenario_suggestions', 'uq_scenario_suggestions_key',          'key'),
  ('judge_rubrics',       'uq_judge_rubrics_content_hash',         'content_hash'),
  ('rate_limit_states',   'uq_rate_limit_states_account_model',    'account, model');

DO $$
DECLARE
  tname text;
  item record;
  new_name text;
  -- Every table that holds a business's data; schema_migrations is the only one left out.
  tables text[] := ARRAY[
    'advisor_profiles', 'personas', 'emotions', 'emotional_arcs', 'topics', 'scenarios',
    'edge_cases', 'vocabulary', 'prompt_templates',
    'conversations', 'conversation_versions', 'conversation_turns', 'conversation_metadata',
    'imported_files', 'generation_jobs', 'generation_queue', 'generation_logs', 'review_events',
    'document_categories', 'documents', 'chunks', 'chunk_dimensions',
    'voice_profiles', 'conversation_sources', 'knowledge_choices', 'scenario_suggestions',
    'conversation_signatures', 'signature_bands', 'judge_rubrics', 'judgements', 'rate_limit_states'
  ];
BEGIN
  FOREACH tname IN ARRAY tables LOOP
    EXECUTE format('ALTER TABLE public.%I ADD COLUMN IF NOT EXISTS tenant text NOT NULL '
                   'DEFAULT public.brightrun_tenant()', tname);
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', tname);
    EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', tname);
    EXECUTE format('DROP POLICY IF EXISTS brightrun_tenant_isolation ON public.%I', tname);
    -- (SELECT ...) makes the planner evaluate the tenant once per statement, not per row.
    EXECUTE format('CREATE POLICY brightrun_tenant_isolation ON public.%I FOR ALL TO brightrun_app '
                   'USING (tenant = (SELECT public.brightrun_tenant())) '
                   'WITH CHECK (tenant = (SELECT public.brightrun_tenant()))', tname);
    -- Supabase grants every new table to anon and authenticated (TRUNCATE included, which
    -- row level security does not cover): access goes through brightrun_app only.
    EXECUTE format('REVOKE ALL ON public.%I FROM PUBLIC', tname);
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
      EXECUTE format('REVOKE ALL ON public.%I FROM anon', tname);
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
      EXECUTE format('REVOKE ALL ON public.%I FROM authenticated', tname);
    END IF;
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON public.%I TO brightrun_app', tname);
    EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO brightrun_app',
                   pg_get_serial_sequence(format('public.%I', tname), 'id'));
  END LOOP;

  FOR item IN SELECT * FROM brightrun_per_tenant_unique LOOP
    new_name := format('uq_%s_tenant_%s', item.table_name, replace(item.cols, ', ', '_'));
    EXECUTE format('ALTER TABLE public.%I DROP CONSTRAINT IF EXISTS %I', item.table_name, item.old_name);
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = new_name) THEN
      EXECUTE format('ALTER TABLE public.%I ADD CONSTRAINT %I UNIQUE (tenant, %s)', item.table_name, new_name, item.cols);
    END IF;
  END LOOP;

  -- Tables without a (tenant, ...) constraint get an index for the policy's filter.
  FOREACH tname IN ARRAY tables LOOP
    IF NOT EXISTS (SELECT FROM brightrun_per_tenant_unique WHERE table_name = tname) THEN
      EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON public.%I (tenant)', 'ix_' || tname || '_tenant', tname);
    END IF;
  END LOOP;
END
$$;

GRANT USAGE ON SCHEMA public TO brightrun_app;
GRANT SELECT ON public.schema_migrations TO brightrun_app;
GRANT EXECUTE ON FUNCTION public.brightrun_tenant() TO brightrun_app;

COMMIT;
