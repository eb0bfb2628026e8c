-- QueryObjects reads pages of a pipeline's instances (`Store::query_instances`) by status, by
-- component and by scheduled start, always in (scheduled start, id) order. Each index below
-- holds those two columns right after the ones a query pins, so a page is one range of one
-- index read in order, and costs the same whatever the pipeline's size.
--
-- A status change rewrites the status index's entry (0002 dropped two such indexes for that
-- cost; this one pays for reads that now happen). Its trailing `component_id` lets a query for
-- statuses of some components skip the others within the index. The component index holds no
-- status, and the store's upsert leaves component and start alone when they are unchanged, so
-- a status change does not touch it, nor `instances_by_start`.
CREATE INDEX instances_by_status
    ON instances (pipeline_id, status, scheduled_start, instance_id, component_id);
CREATE INDEX instances_by_component
    ON instances (pipeline_id, component_id, scheduled_start, instance_id);

-- A QueryObjects marker names the last instance of a page by the 64-bit FNV-1a hash of its id
-- (`sluice_engine::id_hash`), held as the i64 with the same bits. SQL has no wrapping 64-bit
-- multiplication to compute it here, so rows written before this migration get it when the
-- store next opens; the partial index finds them at once, and is empty from then on.
ALTER TABLE instances ADD COLUMN id_hash INTEGER;
CREATE INDEX instances_by_id_hash ON instances (pipeline_id, id_hash);
CREATE INDEX instances_without_id_hash ON instances (pipeline_id) WHERE id_hash IS NULL;
