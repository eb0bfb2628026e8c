//! Secrets stay secret: a canary value planted as a secret parameter and as a database's
//! `*password`, expanded into a shell command, its output and a SQL script, must not appear
//! in anything `sluice run` writes — the state database and its WAL, runner logs, the
//! attempts' own output, uploaded logs, error messages, its stdout and stderr. The real
//! binary, the machine's PostgreSQL (trust authentication, so the planted password is sent
//! and unused).

mod common;

use std::path::{Path, PathBuf};

use serde_json::json;

use common::{Sandbox, ondemand_default, shell};

const CANARY_PARAM: &str = "canary-param-7f3e91";
const CANARY_PASSWORD: &str = "canary-password-c0ffee";

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn a_planted_secret_reaches_no_log_output_or_message() {
    let sb = Sandbox::new();
    let def = sb.write_definition_with(
        "secret.json",
        json!([
            ondemand_default(json!({ "pipelineLogUri": "s3://logs/" })),
            { "id": "Warehouse", "type": "JdbcDatabase",
              "connectionString": "jdbc:postgresql://127.0.0.1:5432/test",
              "jdbcDriverClass": "org.postgresql.Driver", "username": "postgres",
              "*password": CANARY_PASSWORD },
            shell(
                "Use",
                "echo \"token #{*myPassword}\"; echo \"using #{*myPassword}\" >&2",
                json!({}),
            ),
            { "id": "Query", "type": "SqlActivity", "database": { "ref": "Warehouse" },
              "script": "SELECT '#{*myPassword}' AS probe;" },
            shell(
                "Fail",
                "echo \"cannot log in with #{*myPassword}\" >&2; exit 3",
                json!({ "maximumRetries": "0" }),
            ),
        ]),
        json!({ "parameters": [{ "id": "*myPassword", "type": "String" }] }),
    );
    // Given without the `*`, as the AWS samples' documented commands spell it.
    let value = format!("myPassword={CANARY_PARAM}");
    let out = sb.run(&def, &["--output", "json", "--parameter-values", &value]);
    out.assert_code(1);
    let report = out.report();
    assert_eq!(report.one("Use").status, "FINISHED");
    assert_eq!(report.one("Query").status, "FINISHED");
    assert_eq!(report.one("Fail").status, "FAILED");

    // The masked text is there, so the lines that held the secret were written.
    let logs = files(&sb.data_dir());
    let uploaded: Vec<&PathBuf> = logs
        .iter()
        .filter(|p| p.starts_with(sb.data_dir().join("s3/logs")))
        .collect();
    assert!(
        uploaded.iter().any(|p| p.ends_with("stdout.log")),
        "logs were uploaded: {logs:?}"
    );
    let stdout_logs: Vec<String> = logs
        .iter()
        .filter(|p| p.ends_with("stdout.log"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(
        stdout_logs.iter().any(|text| text.contains("token ****")),
        "{stdout_logs:?}"
    );

    // Everything: the state database (and its WAL, if one is left) too, where the secrets
    // are sealed.
    let mut searched = vec![sb.root().join("run1.out"), sb.root().join("run1.err")];
    searched.extend(logs);
    assert!(
        searched.iter().any(|p| p.ends_with("sluice.db")),
        "{searched:?}"
    );

    // Only their owner can read the data directory, the database and the key.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: PathBuf| std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(sb.data_dir()), 0o700);
        assert_eq!(mode(sb.data_dir().join("sluice.db")), 0o600);
        assert_eq!(mode(sb.data_dir().join("secret.key")), 0o600);
    }
    let mut leaks = Vec::new();
    for path in &searched {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for canary in [CANARY_PARAM, CANARY_PASSWORD] {
            if contains(&bytes, canary) {
                leaks.push(format!("{} holds {canary}", path.display()));
            }
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}
