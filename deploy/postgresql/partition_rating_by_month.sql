-- egov-eval: partition the `rating` table by month (PostgreSQL >= 12; tested on 15).
--
-- Run after `egov db init`, as the owner of the tables, in one transaction:
--     psql "$DB" -v ON_ERROR_STOP=1 --single-transaction -f partition_rating_by_month.sql
-- Verified by tests/egov/test_deployment.py (fresh and populated databases). See
-- docs/deployment.md, "Partitioning the ratings by month", for what it changes.
--
-- What it does:
--  * defines egov_create_rating_partitions(first, last): one partition per month
--    (rating_yYYYYmMM, [first of month, first of next month)) for the months from `first` to
--    `last`, creating only the missing ones; rows that fell into the default partition for such
--    a month are moved into the new partition first. Run it monthly (deploy/systemd/).
--  * if `rating` is not partitioned yet: replaces it by a table PARTITIONED BY RANGE (day) with
--    the same columns, defaults, indexes and foreign keys, copies every row (ids kept), and
--    - primary key (id)                              -> (id, day)
--    - unique (object_id, transaction_ref)           -> (object_id, transaction_ref, day)
--      (PostgreSQL requires the partition key in every primary key and unique constraint)
--    - id becomes bigint (hundreds of millions of ratings a year), and so does
--      rating_case.rating_id
--    - the foreign key rating_case.rating_id -> rating(id) is dropped: (id) alone can no
--      longer be unique. A case is written in the same transaction as its rating, and ratings
--      with cases are never deleted (retention anonymises them), so the reference stays valid.
--    - partitions for every month from the oldest rating (or this month) to the newest one
--      or three months ahead, whichever is later, and a DEFAULT partition that takes any day
--      outside them (no insert fails).
--  * if `rating` is partitioned already: only makes sure partitions exist up to three months
--    ahead. Running the file again is harmless.
--
-- It holds an ACCESS EXCLUSIVE lock on `rating` while it copies: stop the API workers first
-- (or do it at installation, when the table is empty), and restart them afterwards in any case:
-- connections that prepared the rating statements before fail with "cached plan must not
-- change result type" (id is bigint now).

CREATE OR REPLACE FUNCTION egov_create_rating_partitions(first date, last date)
RETURNS integer
LANGUAGE plpgsql
AS $fn$
DECLARE
    month date := date_trunc('month', first)::date;
    name text;
    created integer := 0;
    has_default boolean;
BEGIN
    SELECT EXISTS (
        SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'rating'::regclass AND c.relname = 'rating_default'
    ) INTO has_default;
    WHILE month <= last LOOP
        name := format('rating_y%sm%s', to_char(month, 'YYYY'), to_char(month, 'MM'));
        IF to_regclass(name) IS NULL THEN
            IF has_default THEN
                -- a new partition may not overlap rows of the default partition: move them
                EXECUTE format('CREATE TABLE %I (LIKE rating INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
                EXECUTE format(
                    'WITH moved AS (DELETE FROM rating_default WHERE day >= %L AND day < %L RETURNING *) '
                    'INSERT INTO %I SELECT * FROM moved',
                    month, (month + interval '1 month')::date, name);
                EXECUTE format('ALTER TABLE rating ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                    name, month, (month + interval '1 month')::date);
            ELSE
                EXECUTE format('CREATE TABLE %I PARTITION OF rating FOR VALUES FROM (%L) TO (%L)',
                    name, month, (month + interval '1 month')::date);
            END IF;
            created := created + 1;
        END IF;
        month := (month + interval '1 month')::date;
    END LOOP;
    RETURN created;
END
$fn$;

DO $migrate$
DECLARE
    r record;
    index_ddl text[] := '{}';
    fk_ddl text[] := '{}';
    ddl text;
    oldest date;
    newest date;
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = 'rating'::regclass) = 'p' THEN
        RAISE NOTICE 'rating is partitioned already; only adding the coming months';
        PERFORM egov_create_rating_partitions(current_date, (current_date + interval '3 months')::date);
        RETURN;
    END IF;
    LOCK TABLE rating IN ACCESS EXCLUSIVE MODE;
    -- unique constraints other than the two known ones cannot be carried over unchanged
    FOR r IN
        SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
        WHERE x.indrelid = 'rating'::regclass AND x.indisunique
          AND c.relname NOT IN ('rating_pkey', 'uq_rating_transaction')
    LOOP
        RAISE EXCEPTION 'rating has an unexpected unique index %; partitioning needs it to include day', r.relname;
    END LOOP;
    -- the plain indexes and the outgoing foreign keys, recreated on the new table by name
    SELECT coalesce(array_agg(pg_get_indexdef(x.indexrelid)), '{}') INTO index_ddl
    FROM pg_index x WHERE x.indrelid = 'rating'::regclass AND NOT x.indisunique;
    SELECT coalesce(array_agg(format('ALTER TABLE rating ADD CONSTRAINT %I %s', conname,
                                     pg_get_constraintdef(oid))), '{}') INTO fk_ddl
    FROM pg_constraint WHERE conrelid = 'rating'::regclass AND contype = 'f';
    -- references to rating(id) from other tables: (id) will not be unique on its own
    FOR r IN SELECT conname, conrelid::regclass AS tbl FROM pg_constraint
             WHERE confrelid = 'rating'::regclass AND contype = 'f'
    LOOP
        RAISE NOTICE 'dropping foreign key % of % (rating.id is unique only with day now)', r.conname, r.tbl;
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
    END LOOP;
    -- free the names: the old table and its indexes and constraints get a suffix
    ALTER TABLE rating RENAME TO rating_unpartitioned;
    FOR r IN SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
             WHERE x.indrelid = 'rating_unpartitioned'::regclass
    LOOP
        EXECUTE format('ALTER INDEX %I RENAME TO %I', r.relname, r.relname || '_unpartitioned');
    END LOOP;
    FOR r IN SELECT conname FROM pg_constraint
             WHERE conrelid = 'rating_unpartitioned'::regclass AND contype = 'f'
    LOOP
        EXECUTE format('ALTER TABLE rating_unpartitioned DROP CONSTRAINT %I', r.conname);
    END LOOP;

    CREATE TABLE rating (LIKE rating_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
        PARTITION BY RANGE (day);
    ALTER TABLE rating ALTER COLUMN id TYPE bigint;
    ALTER SEQUENCE rating_id_seq AS bigint OWNED BY rating.id;
    ALTER TABLE rating_case ALTER COLUMN rating_id TYPE bigint;
    ALTER TABLE rating ADD CONSTRAINT rating_pkey PRIMARY KEY (id, day);
    ALTER TABLE rating ADD CONSTRAINT uq_rating_transaction UNIQUE (object_id, transaction_ref, day);
    FOREACH ddl IN ARRAY index_ddl LOOP
        EXECUTE ddl;  -- e.g. CREATE INDEX ix_rating_object_day ON public.rating USING btree (…)
    END LOOP;
    FOREACH ddl IN ARRAY fk_ddl LOOP
        EXECUTE ddl;
    END LOOP;
    CREATE TABLE rating_default PARTITION OF rating DEFAULT;

    SELECT least(min(day), current_date), greatest(max(day), (current_date + interval '3 months')::date)
        INTO oldest, newest FROM rating_unpartitioned;
    PERFORM egov_create_rating_partitions(oldest, newest);
    INSERT INTO rating SELECT * FROM rating_unpartitioned;
    DROP TABLE rating_unpartitioned;
    ANALYZE rating;
END
$migrate$;
