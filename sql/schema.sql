-- Bright Run schema for PostgreSQL 15 / Supabase. GENERATED from brightrun_gen/store/tables/:
-- do not edit; run `python -m brightrun_gen.store.ddl > sql/schema.sql` after changing the tables.
-- `brightrun init --db postgresql://...` creates the same schema and records migrations; use this
-- file when you prefer to run the DDL yourself (e.g. in Supabase's SQL editor).

CREATE TABLE advisor_profiles (
	id SERIAL NOT NULL, 
	key VARCHAR(80) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	data JSONB NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_advisor_profiles PRIMARY KEY (id), 
	CONSTRAINT uq_advisor_profiles_key UNIQUE (key)
);

CREATE TABLE conversations (
	id SERIAL NOT NULL, 
	key VARCHAR(120) NOT NULL, 
	tier INTEGER NOT NULL, 
	persona VARCHAR(80) NOT NULL, 
	emotion_start VARCHAR(80) NOT NULL, 
	emotion_end VARCHAR(80) NOT NULL, 
	arc VARCHAR(80), 
	scenario VARCHAR(80), 
	edge_case VARCHAR(80), 
	topic VARCHAR(120) NOT NULL, 
	content_category VARCHAR(120) NOT NULL, 
	topic_cluster VARCHAR(120) NOT NULL, 
	intent VARCHAR(120) NOT NULL, 
	tone VARCHAR(120) NOT NULL, 
	outcome_type VARCHAR(120) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	source VARCHAR(20) NOT NULL, 
	quality_score FLOAT, 
	quality JSONB, 
	model VARCHAR(80), 
	reviewer_notes TEXT, 
	current_version INTEGER NOT NULL, 
	last_error TEXT, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	prior_status VARCHAR(20), 
	failed_at TIMESTAMP WITH TIME ZONE, 
	CONSTRAINT pk_conversations PRIMARY KEY (id), 
	CONSTRAINT uq_conversations_key UNIQUE (key)
);

CREATE INDEX ix_conversations_persona ON conversations (persona);

CREATE INDEX ix_conversations_status ON conversations (status);

CREATE INDEX ix_conversations_tier ON conversations (tier);

CREATE INDEX ix_conversations_updated_at ON conversations (updated_at);

CREATE TABLE document_categories (
	id SERIAL NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_document_categories PRIMARY KEY (id), 
	CONSTRAINT uq_document_categories_name UNIQUE (name)
);

CREATE TABLE edge_cases (
	id SERIAL NOT NULL, 
	key VARCHAR(80) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	data JSONB NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_edge_cases PRIMARY KEY (id), 
	CONSTRAINT uq_edge_cases_key UNIQUE (key)
);

CREATE TABLE emotional_arcs (
	id SERIAL NOT NULL, 
	key VARCHAR(80) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	data JSONB NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_emotional_arcs PRIMARY KEY (id), 
	CONSTRAINT uq_emotional_arcs_key UNIQUE (key)
);

CREATE TABLE emotions (
	id SERIAL NOT NULL, 
	key VARCHAR(80) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	family VARCHAR(80) NOT NULL, 
	valence VARCHAR(20) NOT NULL, 
	intensity FLOAT NOT NULL, 
	data JSONB NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_emotions PRIMARY KEY (id), 
	CONSTRAINT uq_emotions_key UNIQUE (key)
);

CREATE TABLE generation_jobs (
	id SERIAL NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	selection JSONB NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	provider VARCHAR(20) NOT NULL, 
	model VARCHAR(80) NOT NULL, 
	concurrency INTEGER NOT NULL, 
	use_batch BOOLEAN NOT NULL, 
	batch_id VARCHAR(120), 
	finished_at TIMESTAMP WITH TIME ZONE, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	max_cost_usd FLOAT, 
	item_cost_estimate FLOAT, 
	stop_reason VARCHAR(20), 
	account VARCHAR(32), 
	calls_refused INTEGER DEFAULT '0' NOT NULL, 
	wait_seconds FLOAT DEFAULT '0' NOT NULL, 
	CONSTRAINT pk_generation_jobs PRIMARY KEY (id)
);

CREATE INDEX ix_generation_jobs_status ON generation_jobs (status);

CREATE TABLE imported_files (
	id SERIAL NOT NULL, 
	name VARCHAR(300) NOT NULL, 
	content_hash VARCHAR(64) NOT NULL, 
	conversation_keys JSONB NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_imported_files PRIMARY KEY (id), 
	CONSTRAINT uq_imported_files_content_hash UNIQUE (content_hash)
);

CREATE TABLE judge_rubrics (
	id SERIAL NOT NULL, 
	name VARCHAR(120) NOT NULL, 
	content_hash VARCHAR(64) NOT NULL, 
	body TEXT NOT NULL, 
	active BOOLEAN NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_judge_rubrics PRIMARY KEY (id), 
	CONSTRAINT uq_judge_rubrics_content_hash UNIQUE (content_hash)
);

CREATE TABLE personas (
	id SERIAL NOT NULL, 
	key VARCHAR(80) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	archetype VARCHAR(200) NOT NULL, 
	data JSONB NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_personas PRIMARY KEY (id), 
	CONSTRAINT uq_personas_key UNIQUE (key)
);

CREATE TABLE prompt_templates (
	id SERIAL NOT NULL, 
	name VARCHAR(120) NOT NULL, 
	tier INTEGER NOT NULL, 
	body TEXT NOT NULL, 
	placeholders JSONB NOT NULL, 
	response_schema JSONB NOT NULL, 
	active BOOLEAN NOT NULL, 
	content_hash VARCHAR(64) NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	share INTEGER DEFAULT 100 NOT NULL, 
	CONSTRAINT pk_prompt_templates PRIMARY KEY (id), 
	CONSTRAINT uq_prompt_templates_name_content_hash UNIQUE (name, content_hash)
);

CREATE TABLE rate_limit_states (
	id SERIAL NOT NULL, 
	account VARCHAR(32) NOT NULL, 
	model VARCHAR(80) NOT NULL, 
	state JSONB NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_rate_limit_states PRIMARY KEY (id), 
	CONSTRAINT uq_rate_limit_states_account_model UNIQUE (account, model)
);

CREATE TABLE scenario_suggestions (
	id SERIAL NOT NULL, 
	key VARCHAR(80) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	data JSONB NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_scenario_suggestions PRIMARY KEY (id), 
	CONSTRAINT uq_scenario_suggestions_key UNIQUE (key)
);

CREATE TABLE scenarios (
	id SERIAL NOT NULL, 
	key VARCHAR(80) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	data JSONB NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_scenarios PRIMARY KEY (id), 
	CONSTRAINT uq_scenarios_key UNIQUE (key)
);

CREATE TABLE schema_migrations (
	version INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	applied_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_schema_migrations PRIMARY KEY (version)
);

CREATE TABLE topics (
	id SERIAL NOT NULL, 
	key VARCHAR(80) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	content_category VARCHAR(120) NOT NULL, 
	topic_cluster VARCHAR(120) NOT NULL, 
	data JSONB NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_topics PRIMARY KEY (id), 
	CONSTRAINT uq_topics_key UNIQUE (key)
);

CREATE TABLE vocabulary (
	id SERIAL NOT NULL, 
	kind VARCHAR(40) NOT NULL, 
	key VARCHAR(80) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	description TEXT NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_vocabulary PRIMARY KEY (id), 
	CONSTRAINT uq_vocabulary_kind_key UNIQUE (kind, key)
);

CREATE TABLE voice_profiles (
	id SERIAL NOT NULL, 
	source VARCHAR(500) NOT NULL, 
	profile JSONB NOT NULL, 
	content_hash VARCHAR(64) NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_voice_profiles PRIMARY KEY (id)
);

CREATE TABLE conversation_metadata (
	id SERIAL NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	key VARCHAR(300) NOT NULL, 
	value JSONB, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_conversation_metadata PRIMARY KEY (id), 
	CONSTRAINT uq_conversation_metadata_conversation_id_key UNIQUE (conversation_id, key), 
	CONSTRAINT fk_conversation_metadata_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
);

CREATE INDEX ix_conversation_metadata_key ON conversation_metadata (key);

CREATE TABLE conversation_signatures (
	id SERIAL NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	signature BYTEA NOT NULL, 
	turns INTEGER NOT NULL, 
	words INTEGER NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_conversation_signatures PRIMARY KEY (id), 
	CONSTRAINT uq_conversation_signatures_conversation_id_version UNIQUE (conversation_id, version), 
	CONSTRAINT fk_conversation_signatures_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
);

CREATE TABLE conversation_sources (
	id SERIAL NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	rank INTEGER NOT NULL, 
	pinned BOOLEAN NOT NULL, 
	chunk_id VARCHAR(200) NOT NULL, 
	document_title VARCHAR(300) NOT NULL, 
	section_heading VARCHAR(500), 
	excerpt TEXT NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_conversation_sources PRIMARY KEY (id), 
	CONSTRAINT uq_conversation_sources_conversation_id_version_chunk_id UNIQUE (conversation_id, version, chunk_id), 
	CONSTRAINT fk_conversation_sources_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
);

CREATE INDEX ix_conversation_sources_chunk_id ON conversation_sources (chunk_id);

CREATE TABLE conversation_turns (
	id SERIAL NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	role VARCHAR(12) NOT NULL, 
	content TEXT NOT NULL, 
	word_count INTEGER NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	annotation JSONB, 
	CONSTRAINT pk_conversation_turns PRIMARY KEY (id), 
	CONSTRAINT uq_conversation_turns_conversation_id_version_position UNIQUE (conversation_id, version, position), 
	CONSTRAINT fk_conversation_turns_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
);

CREATE TABLE conversation_versions (
	id SERIAL NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	model VARCHAR(80) NOT NULL, 
	template_name VARCHAR(120), 
	template_hash VARCHAR(64), 
	quality_score FLOAT, 
	quality JSONB, 
	log_id INTEGER, 
	similar_to VARCHAR(120), 
	similarity FLOAT, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	origin VARCHAR(20), 
	parent_version INTEGER, 
	notes TEXT, 
	CONSTRAINT pk_conversation_versions PRIMARY KEY (id), 
	CONSTRAINT uq_conversation_versions_conversation_id_version UNIQUE (conversation_id, version), 
	CONSTRAINT fk_conversation_versions_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
);

CREATE TABLE documents (
	id SERIAL NOT NULL, 
	title VARCHAR(300) NOT NULL, 
	category_id INTEGER, 
	source_path VARCHAR(500) NOT NULL, 
	doc_type VARCHAR(20) NOT NULL, 
	content_hash VARCHAR(64) NOT NULL, 
	size_bytes INTEGER NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_documents PRIMARY KEY (id), 
	CONSTRAINT uq_documents_source_path UNIQUE (source_path), 
	CONSTRAINT uq_documents_content_hash UNIQUE (content_hash), 
	CONSTRAINT fk_documents_category_id_document_categories FOREIGN KEY(category_id) REFERENCES document_categories (id)
);

CREATE TABLE generation_logs (
	id SERIAL NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	queue_item_id INTEGER, 
	attempt INTEGER NOT NULL, 
	provider VARCHAR(20) NOT NULL, 
	model VARCHAR(80) NOT NULL, 
	template_name VARCHAR(120), 
	template_hash VARCHAR(64), 
	parameters JSONB NOT NULL, 
	raw_response TEXT, 
	stop_reason VARCHAR(40), 
	outcome VARCHAR(20) NOT NULL, 
	validation_errors JSONB, 
	error TEXT, 
	input_tokens INTEGER NOT NULL, 
	output_tokens INTEGER NOT NULL, 
	cache_creation_tokens INTEGER NOT NULL, 
	cache_read_tokens INTEGER NOT NULL, 
	cost_usd FLOAT NOT NULL, 
	duration_ms INTEGER NOT NULL, 
	retries INTEGER NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	kind VARCHAR(20) DEFAULT 'generate' NOT NULL, 
	CONSTRAINT pk_generation_logs PRIMARY KEY (id), 
	CONSTRAINT fk_generation_logs_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
);

CREATE INDEX ix_generation_logs_conversation_id ON generation_logs (conversation_id);

CREATE INDEX ix_generation_logs_created_at ON generation_logs (created_at);

CREATE TABLE generation_queue (
	id SERIAL NOT NULL, 
	job_id INTEGER NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	attempts INTEGER NOT NULL, 
	lease_owner VARCHAR(200), 
	lease_expires_at TIMESTAMP WITH TIME ZONE, 
	error TEXT, 
	batch_id VARCHAR(120), 
	started_at TIMESTAMP WITH TIME ZONE, 
	finished_at TIMESTAMP WITH TIME ZONE, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_generation_queue PRIMARY KEY (id), 
	CONSTRAINT fk_generation_queue_job_id_generation_jobs FOREIGN KEY(job_id) REFERENCES generation_jobs (id) ON DELETE CASCADE, 
	CONSTRAINT fk_generation_queue_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
);

CREATE INDEX ix_generation_queue_job_id_status ON generation_queue (job_id, status);

CREATE INDEX ix_generation_queue_status_lease_expires_at ON generation_queue (status, lease_expires_at);

CREATE UNIQUE INDEX uq_generation_queue_open_conversation ON generation_queue (conversation_id) WHERE status IN ('pending', 'running');

CREATE TABLE judgements (
	id SERIAL NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	rubric_hash VARCHAR(64) NOT NULL, 
	provider VARCHAR(20) NOT NULL, 
	model VARCHAR(80) NOT NULL, 
	score FLOAT, 
	passed BOOLEAN NOT NULL, 
	flagged BOOLEAN NOT NULL, 
	flag_reason TEXT, 
	reasons JSONB NOT NULL, 
	criteria JSONB NOT NULL, 
	turn_scores JSONB NOT NULL, 
	findings JSONB NOT NULL, 
	summary TEXT, 
	error TEXT, 
	log_id INTEGER, 
	queue_item_id INTEGER, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_judgements PRIMARY KEY (id), 
	CONSTRAINT uq_judgements_conversation_id_version UNIQUE (conversation_id, version), 
	CONSTRAINT fk_judgements_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
);

CREATE INDEX ix_judgements_queue_item_id ON judgements (queue_item_id);

CREATE TABLE review_events (
	id SERIAL NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	action VARCHAR(20) NOT NULL, 
	reviewer VARCHAR(200) NOT NULL, 
	notes TEXT, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_review_events PRIMARY KEY (id), 
	CONSTRAINT fk_review_events_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
);

CREATE INDEX ix_review_events_conversation_id ON review_events (conversation_id);

CREATE TABLE signature_bands (
	id SERIAL NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	version INTEGER NOT NULL, 
	band INTEGER NOT NULL, 
	band_key BIGINT NOT NULL, 
	CONSTRAINT pk_signature_bands PRIMARY KEY (id), 
	CONSTRAINT uq_signature_bands_conversation_id_version_band UNIQUE (conversation_id, version, band), 
	CONSTRAINT fk_signature_bands_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
);

CREATE INDEX ix_signature_bands_band_key ON signature_bands (band_key);

CREATE TABLE chunks (
	id SERIAL NOT NULL, 
	chunk_id VARCHAR(200) NOT NULL, 
	document_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	chunk_type VARCHAR(40) NOT NULL, 
	section_heading VARCHAR(500), 
	page_start INTEGER, 
	page_end INTEGER, 
	char_start INTEGER, 
	char_end INTEGER, 
	token_count INTEGER NOT NULL, 
	chunk_text TEXT NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_chunks PRIMARY KEY (id), 
	CONSTRAINT uq_chunks_chunk_id UNIQUE (chunk_id), 
	CONSTRAINT fk_chunks_document_id_documents FOREIGN KEY(document_id) REFERENCES documents (id) ON DELETE CASCADE
);

CREATE INDEX ix_chunks_document_id ON chunks (document_id);

CREATE TABLE chunk_dimensions (
	id SERIAL NOT NULL, 
	chunk_id INTEGER NOT NULL, 
	chunk_summary_1s TEXT, 
	key_terms JSONB, 
	audience VARCHAR(200), 
	intent VARCHAR(200), 
	tone_voice_tags JSONB, 
	brand_persona_tags JSONB, 
	domain_tags JSONB, 
	claim TEXT, 
	evidence_snippets JSONB, 
	factual_confidence_0_1 FLOAT, 
	extra JSONB, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_chunk_dimensions PRIMARY KEY (id), 
	CONSTRAINT uq_chunk_dimensions_chunk_id UNIQUE (chunk_id), 
	CONSTRAINT fk_chunk_dimensions_chunk_id_chunks FOREIGN KEY(chunk_id) REFERENCES chunks (id) ON DELETE CASCADE
);

CREATE TABLE knowledge_choices (
	id SERIAL NOT NULL, 
	conversation_id INTEGER NOT NULL, 
	chunk_id INTEGER NOT NULL, 
	choice VARCHAR(10) NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	CONSTRAINT pk_knowledge_choices PRIMARY KEY (id), 
	CONSTRAINT uq_knowledge_choices_conversation_id_chunk_id UNIQUE (conversation_id, chunk_id), 
	CONSTRAINT fk_knowledge_choices_conversation_id_conversations FOREIGN KEY(conversation_id) REFERENCES conversations (id) ON DELETE CASCADE, 
	CONSTRAINT fk_knowledge_choices_chunk_id_chunks FOREIGN KEY(chunk_id) REFERENCES chunks (id) ON DELETE CASCADE
);
