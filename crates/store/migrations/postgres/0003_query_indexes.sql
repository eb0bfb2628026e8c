-- The indexes of the SQLite store's migration 3 (../0003_query_indexes.sql), which explains
-- them: pages of a pipeline's instances by status (with the component, to skip other
-- components within a status), by component, and by scheduled start, in (scheduled start, id)
-- order; and the hash of an instance id, by which a QueryObjects marker names an instance.
-- Rows written before this migration get their hash when the store next connects (under the
-- migration lock); the partial index finds them. This migration uses only the tables of 0001.
CREATE INDEX instances_by_status
    ON instances (pipeline_id, status, scheduled_start, instance_id, component_id);
CREATE INDEX instances_by_component
    ON instances (pipeline_id, component_id, scheduled_start, instance_id);

ALTER TABLE instances ADD COLUMN id_hash bigint;
CREATE INDEX instances_by_id_hash ON instances (pipeline_id, id_hash);
CREATE INDEX instances_without_id_hash ON instances (pipeline_id) WHERE id_hash IS NULL;
