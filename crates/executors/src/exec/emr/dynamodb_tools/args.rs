//! The tools' command lines, as `DynamoDBExport`/`DynamoDBImport` read them.
//!
//! Hadoop's `ToolRunner` takes its generic options first; of those, `-D name=value` (or
//! `-Dname=value`) is accepted, and the properties below are acted on:
//!
//! | property | effect |
//! |---|---|
//! | `dynamodb.throughput.read.percent` / `.write.percent` | the ratio, when the positional one is absent |
//! | `dynamodb.scan.segments` | the export's segment count, when the positional one is absent |
//! | `dynamodb.regionid`, `dynamodb.region` | the table's region |
//! | `mapreduce.output.fileoutputformat.compress` (`mapred.output.compress`) | gzip the export's data files |
//! | `mapreduce.output.fileoutputformat.compress.codec` (`mapred.output.compression.codec`) | must be the gzip codec |
//!
//! Other properties (for example `fs.s3.canned.acl`) are reported as not acted on. Then come
//! the positional arguments: `<path> <table> [<read ratio>] [<total segments>]` for the export,
//! `<path> <table> [<write ratio>]` for the import. Anything more is refused.

/// Which tool a command line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tool {
    Export,
    Import,
}

impl Tool {
    pub(super) fn usage(self) -> &'static str {
        match self {
            Tool::Export => {
                "DynamoDBExport <path>,<table-name>[,<read-ratio>][,<total-segment-count>]"
            }
            Tool::Import => "DynamoDBImport <path>,<table-name>[,<write-ratio>]",
        }
    }

    fn ratio_name(self) -> &'static str {
        match self {
            Tool::Export => "read ratio",
            Tool::Import => "write ratio",
        }
    }

    fn ratio_property(self) -> &'static str {
        match self {
            Tool::Export => "dynamodb.throughput.read.percent",
            Tool::Import => "dynamodb.throughput.write.percent",
        }
    }
}

/// The share of a table's throughput the connector uses when told nothing.
pub(super) const DEFAULT_RATIO: f64 = 0.5;

/// The range EMR documents for `dynamodb.throughput.read.percent` and `.write.percent`.
const RATIO_RANGE: std::ops::RangeInclusive<f64> = 0.1..=1.5;

/// The gzip codec, the only one Sluice writes.
const GZIP_CODEC: &str = "org.apache.hadoop.io.compress.GzipCodec";

/// A parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ToolArgs {
    /// The S3 (or local) folder, without a trailing `/`.
    pub path: String,
    pub table: String,
    /// The read ratio (export) or write ratio (import).
    pub ratio: f64,
    /// The export's parallel scan segments, when given.
    pub segments: Option<u32>,
    /// The region named by `-D dynamodb.regionid` / `dynamodb.region`.
    pub region: Option<String>,
    /// Whether the export gzips its data files.
    pub gzip: bool,
    /// `-D` properties not acted on, as given.
    pub ignored: Vec<String>,
}

/// Parses the arguments that follow the tool's class name.
pub(super) fn parse(tool: Tool, args: &[String]) -> Result<ToolArgs, String> {
    let usage = tool.usage();
    let mut properties: Vec<(String, String)> = Vec::new();
    let mut rest = args.iter();
    let mut positional: Vec<&str> = Vec::new();
    while let Some(arg) = rest.next() {
        if !positional.is_empty() || !arg.starts_with('-') || arg == "-" {
            positional.push(arg);
            continue;
        }
        let Some(inline) = arg.strip_prefix("-D") else {
            return Err(format!(
                "{arg} is not an option the DynamoDB tools take here (only Hadoop's \
                 -D name=value); usage: {usage}"
            ));
        };
        let property = match inline.trim() {
            "" => rest
                .next()
                .ok_or_else(|| format!("-D needs a name=value; usage: {usage}"))?
                .as_str(),
            given => given,
        };
        let Some((name, value)) = property.split_once('=') else {
            return Err(format!("-D {property}: expected name=value"));
        };
        properties.push((name.trim().to_owned(), value.trim().to_owned()));
    }

    let max = match tool {
        Tool::Export => 4,
        Tool::Import => 3,
    };
    if positional.len() < 2 {
        return Err(format!("not enough arguments; usage: {usage}"));
    }
    if positional.len() > max {
        return Err(format!(
            "unexpected argument(s) {} after the last one the tool takes; usage: {usage}",
            positional[max..]
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let path = positional[0].trim_end_matches('/').to_owned();
    if path.is_empty() {
        return Err(format!("the path is empty; usage: {usage}"));
    }
    let table = positional[1].to_owned();
    if table.is_empty() {
        return Err(format!("the table name is empty; usage: {usage}"));
    }

    let mut parsed = ToolArgs {
        path,
        table,
        ratio: DEFAULT_RATIO,
        segments: None,
        region: None,
        gzip: false,
        ignored: Vec::new(),
    };
    let mut codec: Option<String> = None;
    for (name, value) in properties {
        match name.as_str() {
            n if n == tool.ratio_property() => parsed.ratio = ratio(tool, &value)?,
            "dynamodb.scan.segments" if tool == Tool::Export => {
                parsed.segments = Some(segments(&value)?)
            }
            "dynamodb.regionid" | "dynamodb.region" if !value.is_empty() => {
                parsed.region = Some(value)
            }
            "mapreduce.output.fileoutputformat.compress" | "mapred.output.compress"
                if tool == Tool::Export =>
            {
                parsed.gzip = value.eq_ignore_ascii_case("true");
            }
            "mapreduce.output.fileoutputformat.compress.codec"
            | "mapred.output.compression.codec"
                if tool == Tool::Export =>
            {
                codec = Some(value);
            }
            _ => parsed.ignored.push(format!("{name}={value}")),
        }
    }
    if parsed.gzip
        && let Some(codec) = codec.filter(|c| c != GZIP_CODEC)
    {
        return Err(format!(
            "compression codec {codec} is not supported: the export compresses with \
             {GZIP_CODEC} only"
        ));
    }
    if let Some(value) = positional.get(2) {
        parsed.ratio = ratio(tool, value)?;
    }
    if let Some(value) = positional.get(3) {
        parsed.segments = Some(segments(value)?);
    }
    Ok(parsed)
}

fn ratio(tool: Tool, value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(r) if RATIO_RANGE.contains(&r) => Ok(r),
        _ => Err(format!(
            "could not use {value:?} as the {}: it must be a number from {} to {}",
            tool.ratio_name(),
            RATIO_RANGE.start(),
            RATIO_RANGE.end()
        )),
    }
}

fn segments(value: &str) -> Result<u32, String> {
    match value.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "could not use {value:?} as the total segment count: it must be a whole number \
             of at least 1"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn positional_arguments_and_defaults() {
        let a = parse(Tool::Export, &strings(&["s3://b/out/", "orders"])).unwrap();
        assert_eq!(a.path, "s3://b/out");
        assert_eq!(a.table, "orders");
        assert_eq!(a.ratio, DEFAULT_RATIO);
        assert_eq!(a.segments, None);
        let a = parse(
            Tool::Export,
            &strings(&["s3://b/out", "orders", "0.25", "8"]),
        )
        .unwrap();
        assert_eq!((a.ratio, a.segments), (0.25, Some(8)));
        let a = parse(Tool::Import, &strings(&["s3://b/in", "orders", "1.0"])).unwrap();
        assert_eq!(a.ratio, 1.0);
    }

    #[test]
    fn generic_options_come_first_and_some_are_acted_on() {
        let a = parse(
            Tool::Export,
            &strings(&[
                "-Dfs.s3.canned.acl=BucketOwnerFullControl",
                "-D mapreduce.output.fileoutputformat.compress=true",
                "-D",
                "dynamodb.regionid=eu-west-1",
                "-Ddynamodb.scan.segments=3",
                "s3://b/out",
                "orders",
            ]),
        )
        .unwrap();
        assert!(a.gzip);
        assert_eq!(a.region.as_deref(), Some("eu-west-1"));
        assert_eq!(a.segments, Some(3));
        assert_eq!(a.ignored, ["fs.s3.canned.acl=BucketOwnerFullControl"]);
        // The positional ratio wins over the property, as in the tool.
        let a = parse(
            Tool::Import,
            &strings(&[
                "-Ddynamodb.throughput.write.percent=0.2",
                "s3://b",
                "t",
                "0.7",
            ]),
        )
        .unwrap();
        assert_eq!(a.ratio, 0.7);
    }

    #[test]
    fn bad_command_lines_say_what_is_wrong() {
        let err = parse(Tool::Export, &strings(&["s3://b/out"])).unwrap_err();
        assert!(
            err.contains("not enough arguments") && err.contains("usage"),
            "{err}"
        );
        let err = parse(Tool::Import, &strings(&["s3://b", "t", "0.5", "extra"])).unwrap_err();
        assert!(err.contains("\"extra\""), "{err}");
        let err = parse(Tool::Export, &strings(&["s3://b", "t", "0.5", "4", "x"])).unwrap_err();
        assert!(err.contains("\"x\""), "{err}");
        for bad in ["abc", "0", "2", "-0.5", "NaN", ""] {
            let err = parse(Tool::Export, &strings(&["s3://b", "t", bad])).unwrap_err();
            assert!(err.contains("read ratio"), "{bad}: {err}");
        }
        let err = parse(Tool::Export, &strings(&["s3://b", "t", "0.5", "0"])).unwrap_err();
        assert!(err.contains("segment count"), "{err}");
        let err = parse(
            Tool::Export,
            &strings(&["-libjars", "x.jar", "s3://b", "t"]),
        )
        .unwrap_err();
        assert!(err.contains("-libjars"), "{err}");
        let err = parse(
            Tool::Export,
            &strings(&[
                "-Dmapreduce.output.fileoutputformat.compress=true",
                "-Dmapreduce.output.fileoutputformat.compress.codec=org.apache.hadoop.io.compress.SnappyCodec",
                "s3://b",
                "t",
            ]),
        )
        .unwrap_err();
        assert!(err.contains("SnappyCodec"), "{err}");
    }
}
