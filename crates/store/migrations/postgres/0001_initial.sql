-- The PostgreSQL schema: the SQLite store's tables as its migrations leave them (see
-- ../0001_initial.sql and ../0002_drop_unused_indexes.sql), so both read and write the same
-- rows and return them in the same order.
--
-- `data` holds the whole record as JSON and is the only column ever decoded; the other columns
-- are copies of the fields that lookups filter or sort on. It is `text`, not `jsonb`: nothing
-- queries inside it, `jsonb` would reparse and reorder every record on each write, and it
-- refuses the `\u0000` escape a runtime field (a process's output) may carry.
--
-- Every id and time key sorts with `COLLATE "C"` (byte order), as SQLite's text does, whatever
-- the database's default collation; the indexes are built with it, so the reads' ORDER BY
-- walks them. Times are text `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn` (fixed width, so text order is
-- time order, to the nanosecond, which `timestamp` would round to microseconds). `version`
-- holds the record's u64 version as the bigint with the same bits; the store compares versions
-- after converting back, never in SQL.

CREATE TABLE pipelines (
    pipeline_id text COLLATE "C" NOT NULL PRIMARY KEY,
    state       text             NOT NULL,
    version     bigint           NOT NULL,
    created_at  text COLLATE "C" NOT NULL,
    data        text             NOT NULL
);

CREATE TABLE instances (
    pipeline_id     text COLLATE "C" NOT NULL REFERENCES pipelines (pipeline_id) ON DELETE CASCADE,
    instance_id     text COLLATE "C" NOT NULL,
    component_id    text COLLATE "C" NOT NULL,
    status          text             NOT NULL,
    scheduled_start text COLLATE "C" NOT NULL,
    data            text             NOT NULL,
    PRIMARY KEY (pipeline_id, instance_id)
);

-- Reading a pipeline's instances in schedule order.
CREATE INDEX instances_by_start ON instances (pipeline_id, scheduled_start, instance_id);

CREATE TABLE attempts (
    pipeline_id      text COLLATE "C" NOT NULL REFERENCES pipelines (pipeline_id) ON DELETE CASCADE,
    attempt_id       text COLLATE "C" NOT NULL,
    instance_id      text COLLATE "C" NOT NULL,
    number           bigint           NOT NULL,
    status           text             NOT NULL,
    worker_group     text COLLATE "C" NOT NULL,
    lease_expires_at text COLLATE "C",
    data             text             NOT NULL,
    PRIMARY KEY (pipeline_id, attempt_id)
);

-- Reading a pipeline's attempts in (instance, number) order.
CREATE INDEX attempts_by_instance ON attempts (pipeline_id, instance_id, number);
