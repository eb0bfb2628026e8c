//! Pipeline ids and request ids.
//!
//! Neither is a secret (pipelines are scoped by account, request ids only correlate logs), so
//! they come from the standard library's randomly keyed SipHash over a counter and the clock,
//! as the engine's task ids do, rather than from another dependency.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// 64 unpredictable bits, distinct on every call within a process.
fn random_u64() -> u64 {
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    RandomState::new().hash_one((count, nanos))
}

/// `df-` and 19 upper-case letters and digits, AWS's pipeline id shape.
pub(crate) fn new_pipeline_id() -> String {
    const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut value = (u128::from(random_u64()) << 64) | u128::from(random_u64());
    let mut id = String::with_capacity(22);
    id.push_str("df-");
    for _ in 0..19 {
        id.push(char::from(ALPHABET[(value % 36) as usize]));
        value /= 36;
    }
    id
}

/// A UUID-shaped request id for `x-amzn-RequestId` (version 4 layout).
pub fn new_request_id() -> String {
    let (a, b) = (random_u64(), random_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_ids_have_the_aws_shape_and_differ() {
        let a = new_pipeline_id();
        assert_eq!(a.len(), 22);
        assert!(a.starts_with("df-"));
        assert!(
            a[3..]
                .bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert_ne!(a, new_pipeline_id());
    }

    #[test]
    fn request_ids_look_like_uuids() {
        let id = new_request_id();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert_ne!(id, new_request_id());
    }
}
