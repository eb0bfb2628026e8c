//! "Did you mean" suggestions for unknown type and field names.
//!
//! Plain Levenshtein distance on ASCII-lowercased names: a wrong letter case costs nothing, so
//! `s3DataNode` suggests `S3DataNode`. A candidate qualifies when its distance is at most a quarter
//! of the longer name (and at least 2), which keeps suggestions to genuine near-misses.

/// Up to `max` candidates close to `word`, closest first (ties in candidate order).
pub(crate) fn close_names<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Vec<&'a str> {
    let lower = word.to_ascii_lowercase();
    let mut scored: Vec<(usize, usize, &str)> = candidates
        .into_iter()
        .enumerate()
        .filter(|(_, c)| *c != word)
        .filter_map(|(i, c)| {
            let d = distance(&lower, &c.to_ascii_lowercase());
            let budget = (word.len().max(c.len()) / 4).max(2);
            (d <= budget).then_some((d, i, c))
        })
        .collect();
    scored.sort();
    let mut out: Vec<&str> = Vec::new();
    for (_, _, c) in scored {
        if !out.contains(&c) {
            out.push(c);
        }
        if out.len() == max {
            break;
        }
    }
    out
}

/// ` (did you mean 'a' or 'b'?)`, or nothing when there is no suggestion.
pub(crate) fn did_you_mean(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => format!(" (did you mean '{one}'?)"),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(|n| format!("'{n}'")).collect();
            format!(" (did you mean {} or '{last}'?)", init.join(", "))
        }
    }
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_is_levenshtein() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("abc", "abc"), 0);
    }

    #[test]
    fn suggests_near_misses_closest_first() {
        let types = [
            "ShellCommandActivity",
            "ShellCommandPrecondition",
            "SqlActivity",
            "CSV",
        ];
        assert_eq!(
            close_names("ShellComandActivity", types, 3),
            ["ShellCommandActivity"]
        );
        assert_eq!(close_names("csv", types, 3), ["CSV"]);
        assert!(close_names("Completely", types, 3).is_empty());
        let fields = ["password", "*password", "username"];
        assert_eq!(close_names("pasword", fields, 1), ["password"]);
    }

    #[test]
    fn formats_suggestions() {
        assert_eq!(did_you_mean(&[]), "");
        assert_eq!(did_you_mean(&["a"]), " (did you mean 'a'?)");
        assert_eq!(
            did_you_mean(&["a", "b", "c"]),
            " (did you mean 'a', 'b' or 'c'?)"
        );
    }
}
