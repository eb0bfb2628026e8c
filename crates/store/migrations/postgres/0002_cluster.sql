-- Several servers on one database: who is alive, who schedules which pipeline, and the
-- lookups a server makes across pipelines it does not schedule (a task's pipeline, pipelines
-- with work waiting for a worker group). See src/postgres/cluster.rs.
--
-- Expiry times are `timestamptz` compared with the database clock (`clock_timestamp()`), never
-- with a server's, so servers whose clocks disagree still agree on who holds a lease.

CREATE TABLE servers (
    server_id  text        NOT NULL PRIMARY KEY,
    url        text        NOT NULL,
    expires_at timestamptz NOT NULL
);

-- One row per leased pipeline. No foreign key: the lease of a pipeline being created is taken
-- right after its first commit, and a deleted pipeline's lease is dropped by its owner.
CREATE TABLE pipeline_leases (
    pipeline_id text COLLATE "C" NOT NULL PRIMARY KEY,
    owner       text             NOT NULL,
    epoch       bigint           NOT NULL,
    expires_at  timestamptz      NOT NULL
);

CREATE INDEX pipeline_leases_by_owner ON pipeline_leases (owner);

-- CreatePipeline's idempotency key (name and uniqueId), per account across every server.
CREATE TABLE pipeline_unique_ids (
    account_id  text NOT NULL,
    name        text NOT NULL,
    unique_id   text NOT NULL,
    pipeline_id text NOT NULL,
    PRIMARY KEY (account_id, name, unique_id)
);

-- The task an attempt was handed out as (ReportTaskProgress and SetTaskStatus reach any server).
ALTER TABLE attempts ADD COLUMN task_id text COLLATE "C";
CREATE INDEX attempts_by_task ON attempts (task_id) WHERE task_id IS NOT NULL;

-- Pipelines with work for a worker group (PollForTask on a server that does not schedule them).
CREATE INDEX attempts_waiting ON attempts (worker_group, pipeline_id)
    WHERE status = 'WAITING_FOR_RUNNER';
