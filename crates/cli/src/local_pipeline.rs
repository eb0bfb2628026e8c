//! How `sluice run` names the pipeline a definition file becomes, so that running the same
//! file again on the same data directory resumes it rather than starting over.

use std::path::Path;

use anyhow::{Context as _, Result};

/// A pipeline id in AWS's shape (`df-` and 19 upper-case letters and digits), derived from the
/// definition file's canonical path: stable across runs, distinct across files.
pub(crate) fn pipeline_id_for(definition: &Path) -> Result<String> {
    let canonical = definition
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", definition.display()))?;
    Ok(pipeline_id_from_key(canonical.to_string_lossy().as_bytes()))
}

fn pipeline_id_from_key(key: &[u8]) -> String {
    const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    // Two independent FNV-1a hashes give 128 bits, more than the 19 base-36 digits hold.
    let mut high: u64 = 0xcbf2_9ce4_8422_2325;
    let mut low: u64 = 0x8422_2325_cbf2_9ce4;
    for &byte in key {
        high = (high ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        low = (low ^ u64::from(byte.rotate_left(3))).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut value = (u128::from(high) << 64) | u128::from(low);
    let mut digits = String::with_capacity(22);
    digits.push_str("df-");
    for _ in 0..19 {
        digits.push(char::from(ALPHABET[(value % 36) as usize]));
        value /= 36;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_aws_shape_and_depend_on_the_key() {
        let a = pipeline_id_from_key(b"/home/me/a.json");
        let b = pipeline_id_from_key(b"/home/me/b.json");
        assert_ne!(a, b);
        assert_eq!(a, pipeline_id_from_key(b"/home/me/a.json"));
        assert_eq!(a.len(), 22);
        assert!(a.starts_with("df-"));
        assert!(
            a[3..]
                .bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
    }
}
