//! Markers for ListPipelines, DescribeObjects and QueryObjects.
//!
//! A marker names the last item of the previous page by its position and a hash of its sort
//! key (`<position>.<hash>` in hex). Positions keep markers short whatever the ids look like
//! (the model caps `marker` at 1024 characters); the hash keeps pagination right when items
//! were added before the marker between two calls (new instances, new pipelines): the item is
//! found again by its key and the next page starts after it. If it is gone, the next page starts
//! at the old position. SDK paginators stop when `hasMoreResults` is false, so it is always
//! present and the last page has no marker.

use crate::error::{ApiError, ApiResult};

/// One page of a list of items in a stable order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    pub(crate) range: std::ops::Range<usize>,
    /// The marker of the next page, when there is one.
    pub(crate) marker: Option<String>,
}

impl Page {
    pub(crate) fn has_more(&self) -> bool {
        self.marker.is_some()
    }
}

/// A key's hash in a marker: FNV-1a ([`sluice_engine::id_hash`]), stable across processes, so
/// markers survive a server restart; for instances, it is the hash the stores index, by which
/// QueryObjects finds a marker's instance without listing the others.
fn key_hash(key: &str) -> u64 {
    sluice_engine::id_hash(key)
}

fn decode(marker: &str) -> Option<(usize, u64)> {
    let (position, hash) = marker.split_once('.')?;
    Some((
        usize::from_str_radix(position, 16).ok()?,
        u64::from_str_radix(hash, 16).ok()?,
    ))
}

/// A request's marker as the position and key hash of the previous page's last item; `None`
/// for the first page.
pub(crate) fn parse_marker(marker: Option<&str>) -> ApiResult<Option<(usize, u64)>> {
    marker
        .filter(|m| !m.is_empty())
        .map(|marker| {
            decode(marker)
                .ok_or_else(|| ApiError::invalid(format!("'{marker}' is not a valid marker")))
        })
        .transpose()
}

/// The marker of a page whose last item is `key`, at `position`.
pub(crate) fn marker(position: usize, key: &str) -> String {
    format!("{position:x}.{:016x}", key_hash(key))
}

/// The page of at most `limit` items after `marker`, for items whose sort keys are `keys`.
pub(crate) fn page<K: AsRef<str>>(
    keys: &[K],
    marker: Option<&str>,
    limit: usize,
) -> ApiResult<Page> {
    let start = match parse_marker(marker)? {
        None => 0,
        Some((position, hash)) => {
            let same = |i: usize| keys.get(i).is_some_and(|k| key_hash(k.as_ref()) == hash);
            if same(position) {
                position + 1
            } else {
                match (0..keys.len()).find(|&i| same(i)) {
                    Some(found) => found + 1,
                    None => position.saturating_add(1).min(keys.len()),
                }
            }
        }
    };
    let end = start.saturating_add(limit.max(1)).min(keys.len());
    let marker = (end < keys.len()).then(|| self::marker(end - 1, keys[end - 1].as_ref()));
    Ok(Page {
        range: start..end,
        marker,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_pages(keys: &[&str], limit: usize) -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = page(keys, marker.as_deref(), limit).unwrap();
            pages.push(
                keys[page.range.clone()]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            );
            match page.marker {
                Some(m) => marker = Some(m),
                None => return pages,
            }
        }
    }

    #[test]
    fn pages_cover_every_item_once() {
        let keys = ["a", "b", "c", "d", "e"];
        assert_eq!(
            all_pages(&keys, 2),
            vec![vec!["a", "b"], vec!["c", "d"], vec!["e"]]
        );
        assert_eq!(all_pages(&keys, 5), vec![keys.to_vec()]);
        assert_eq!(all_pages(&[], 3), vec![Vec::<String>::new()]);
    }

    #[test]
    fn an_item_inserted_before_the_marker_does_not_repeat_items() {
        let first = page(&["b", "c", "d"], None, 2).unwrap();
        let marker = first.marker.unwrap();
        let next = page(&["a", "b", "c", "d"], Some(&marker), 2).unwrap();
        assert_eq!(next.range, 3..4);
        assert!(next.marker.is_none());
    }

    #[test]
    fn bad_markers_are_invalid_requests() {
        let error = page(&["a"], Some("nonsense"), 1).unwrap_err();
        assert_eq!(error.aws_type(), "InvalidRequestException");
    }
}
