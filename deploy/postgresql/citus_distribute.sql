-- egov-eval: distribute the rating tables over a Citus cluster, distribution key object_id.
--
-- NOT EXECUTED IN THIS PROJECT'S TESTS: Citus is not installable where they run. Written for
-- Citus 12 on PostgreSQL 15/16 from the Citus documentation; rehearse it on a copy of the
-- database on a staging cluster before production (docs/deployment.md, "When one server is
-- no longer enough", lists what to check). Run on the coordinator, after `egov db init` and
-- partition_rating_by_month.sql, with the API workers stopped:
--     psql "$DB" -v ON_ERROR_STOP=1 -f citus_distribute.sql
--
-- Why object_id: every hot statement names one object (the token claim, the rating, its
-- roll-up row, its offer row, its case), so with these tables co-located a rating's whole
-- transaction runs on one worker; scoring reads rating_daily grouped by object, which every
-- worker computes for its own objects in parallel.

CREATE EXTENSION IF NOT EXISTS citus;

-- Reference tables: small, read on every request and joined with the distributed tables; one
-- copy on every worker. Foreign keys from distributed tables to them are allowed.
SELECT create_reference_table('peer_group');
SELECT create_reference_table('department');
SELECT create_reference_table('assessed_object');
SELECT create_reference_table('api_key');

-- Unique constraints of a distributed table must include the distribution column.
-- rating: (id, day) -> (object_id, id, day); (object_id, transaction_ref, day) has it already.
ALTER TABLE rating DROP CONSTRAINT rating_pkey;
ALTER TABLE rating ADD CONSTRAINT rating_pkey PRIMARY KEY (object_id, id, day);
-- rating_token: (id) -> (object_id, id); uq_token_transaction (object_id, transaction_ref) has it.
ALTER TABLE rating_token DROP CONSTRAINT rating_token_pkey;
ALTER TABLE rating_token ADD CONSTRAINT rating_token_pkey PRIMARY KEY (object_id, id);
-- rating_case: (id) -> (object_id, id); one case per rating: (rating_id) -> (object_id, rating_id)
ALTER TABLE rating_case DROP CONSTRAINT rating_case_pkey;
ALTER TABLE rating_case ADD CONSTRAINT rating_case_pkey PRIMARY KEY (object_id, id);
ALTER TABLE rating_case DROP CONSTRAINT rating_case_rating_id_key;
ALTER TABLE rating_case ADD CONSTRAINT rating_case_rating_id_key UNIQUE (object_id, rating_id);
-- rating_daily (object_id, day) and offer_daily (object_id, day) are keyed by it already.

-- Distributed, all in one co-location group (shards of the same object on the same worker).
-- A partitioned table is distributed with its partitions; partitions created later by
-- egov_create_rating_partitions are distributed as they are created.
SELECT create_distributed_table('rating_daily', 'object_id');
SELECT create_distributed_table('offer_daily', 'object_id', colocate_with => 'rating_daily');
SELECT create_distributed_table('rating_token', 'object_id', colocate_with => 'rating_daily');
SELECT create_distributed_table('rating', 'object_id', colocate_with => 'rating_daily');
SELECT create_distributed_table('rating_case', 'object_id', colocate_with => 'rating_daily');

-- Everything else stays an ordinary table on the coordinator: app_secret, schema_info,
-- framework, period, metric_value, evaluation_run, run_input, run_score, run_unit,
-- report_session, audit_log. They are small or written once per evaluation run. (Citus turns
-- the ones with foreign keys to the reference tables into "Citus managed local tables".)
