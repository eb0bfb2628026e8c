//! The engine fails an instance at once, without retries, for the error ids of
//! `sluice_engine::UNRETRYABLE_ERROR_IDS`; those must be the names runners really report.

use sluice_executors::exec::error_id::{INVALID_TASK, PIG_NOT_FOUND, SPARK_NOT_FOUND, UNSUPPORTED};

#[test]
fn unretryable_error_ids_are_the_ones_runners_report() {
    assert_eq!(
        sluice_engine::UNRETRYABLE_ERROR_IDS,
        [
            sluice_runner::NO_EXECUTOR,
            INVALID_TASK,
            UNSUPPORTED,
            SPARK_NOT_FOUND,
            PIG_NOT_FOUND
        ]
    );
}
