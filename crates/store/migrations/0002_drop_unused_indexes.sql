-- Nothing reads instances or attempts by status or lease: the engine keeps that in memory and
-- reads a pipeline's records back only in full, by pipeline. Each of these indexes cost a page
-- write on every status change, the most frequent write there is.
DROP INDEX instances_by_status;
DROP INDEX attempts_by_status;
DROP INDEX attempts_by_lease;
