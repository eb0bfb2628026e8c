//! An error with its causes, for messages and log lines.

/// An error and its sources, `: `-separated, each part once: the HTTP clients' own `Display`
/// is only the outermost layer ("dispatch failure", "error sending request"), and their
/// `Debug` is too noisy for a log line.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}
