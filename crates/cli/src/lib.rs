//! Library side of the `sluice` binary: what the commands share with the benchmarks.

pub mod local_run;
