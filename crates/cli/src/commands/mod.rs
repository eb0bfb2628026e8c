//! One module per subcommand.

pub(crate) mod eval;
pub(crate) mod run;
pub(crate) mod server;
pub(crate) mod validate;

/// Exit status for a definition that was read but is invalid, or a run that failed.
pub(crate) const EXIT_INVALID: u8 = 1;
/// Exit status for usage errors and unreadable input.
pub(crate) const EXIT_USAGE: u8 = 2;
