//! The local-file work of a streaming job: turning program output into Hadoop's text records,
//! and the shuffle between map and reduce (partition by key, sort, merge).
//!
//! Records stay bytes (mappers may print anything but `\n`). The shuffle holds at most
//! [`SPILL_BYTES`] of map output in memory: beyond that it sorts what it holds and spills it
//! as a run file (partitions one after the other, their offsets kept), then merges the runs of
//! each partition into that reduce task's input. Sorting is stable and runs are merged in the
//! order they were written, so lines with equal keys keep the order the mappers printed them
//! in, map task by map task; every run of the same job gives the same output.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sluice_data::format::Compression;
use tokio_util::sync::CancellationToken;

/// How much map output (line bytes plus bookkeeping) is sorted in memory before it spills.
pub(crate) const SPILL_BYTES: usize = 64 * 1024 * 1024;

/// How many lines pass between two looks at the cancellation token.
pub(crate) const CANCEL_EVERY: u64 = 4096;

/// Why local work stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    Canceled,
    /// Reading or writing a local file failed.
    Io(String),
    /// The data cannot be processed (a line the aggregate reducer cannot read).
    Data(String),
}

impl Stop {
    pub(crate) fn io(doing: &str, err: io::Error) -> Stop {
        Stop::Io(format!("{doing}: {err}"))
    }

    fn file(doing: &str, path: &Path) -> impl FnOnce(io::Error) -> Stop {
        let doing = format!("{doing} {}", path.display());
        move |err| Stop::io(&doing, err)
    }
}

/// Lines of a stream without their terminator (`\n`, or `\r\n` as Hadoop's line reader also
/// accepts); a last line without one still counts.
pub(crate) struct LineReader<R> {
    input: R,
    line: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(input: R) -> Self {
        LineReader {
            input,
            line: Vec::new(),
        }
    }

    pub(crate) fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        self.line.clear();
        if self.input.read_until(b'\n', &mut self.line)? == 0 {
            return Ok(None);
        }
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
        }
        Ok(Some(&self.line))
    }
}

/// Writes `line` as the record Hadoop makes of it: the key is the text before the first tab,
/// the value the rest, and `key<TAB>value` is written back, so a line without a tab gains one
/// at its end (as in Hadoop's output and reducer input).
fn write_record(out: &mut impl Write, line: &[u8]) -> io::Result<()> {
    out.write_all(line)?;
    if !line.contains(&b'\t') {
        out.write_all(b"\t")?;
    }
    out.write_all(b"\n")
}

/// Rewrites a program's raw output `from` as records in `to`; the number of bytes written.
pub(crate) fn normalize(from: &Path, to: &Path, cancel: &CancellationToken) -> Result<u64, Stop> {
    let input = File::open(from).map_err(Stop::file("cannot read", from))?;
    let output = File::create(to).map_err(Stop::file("cannot create", to))?;
    let mut out = BufWriter::new(output);
    let mut lines = LineReader::new(BufReader::new(input));
    let mut count = 0u64;
    while let Some(line) = lines.next_line().map_err(Stop::file("cannot read", from))? {
        count += 1;
        if count.is_multiple_of(CANCEL_EVERY) && cancel.is_cancelled() {
            return Err(Stop::Canceled);
        }
        write_record(&mut out, line).map_err(Stop::file("cannot write", to))?;
    }
    let file = out
        .into_inner()
        .map_err(|e| Stop::file("cannot write", to)(e.into_error()))?;
    file.metadata()
        .map(|m| m.len())
        .map_err(Stop::file("cannot write", to))
}

/// Decompresses the gzip file `from` (all its members, as Hadoop's codec reads them) to `to`.
pub(crate) fn gunzip(from: &Path, to: &Path, cancel: &CancellationToken) -> Result<(), Stop> {
    let input = File::open(from).map_err(Stop::file("cannot read", from))?;
    let mut input = Compression::Gzip.decode(input);
    let output = File::create(to).map_err(Stop::file("cannot create", to))?;
    let mut out = BufWriter::new(output);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        if cancel.is_cancelled() {
            return Err(Stop::Canceled);
        }
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                return Err(Stop::Data(format!(
                    "cannot decompress {}: {err}",
                    from.display()
                )));
            }
        };
        out.write_all(&buf[..n])
            .map_err(Stop::file("cannot write", to))?;
    }
    out.flush().map_err(Stop::file("cannot write", to))
}

/// The reduce task a key goes to, as Hadoop's `HashPartitioner` picks it for a `Text` key, so
/// a job's parts hold the same keys as on EMR.
pub(crate) fn partition_of(key: &[u8], partitions: usize) -> usize {
    // Text.hashCode: 31 * h + b over the bytes as Java's signed bytes, from 1.
    let hash = key.iter().fold(1i32, |h, &b| {
        h.wrapping_mul(31).wrapping_add(i32::from(b as i8))
    });
    (hash & i32::MAX) as usize % partitions.max(1)
}

fn key_end(line: &[u8]) -> usize {
    line.iter().position(|&b| b == b'\t').unwrap_or(line.len())
}

/// One record held in memory: its line is `arena[start..end]`, its key `arena[start..key]`.
struct Held {
    partition: usize,
    start: usize,
    key: usize,
    end: usize,
}

/// A spilled run: one file, each partition's records sorted, one partition after the other.
struct Run {
    path: PathBuf,
    /// Byte range of each partition in the file.
    segments: Vec<(u64, u64)>,
}

/// Partitions and sorts the mappers' raw outputs into one input file per reduce task, named
/// `00000`, `00001`, … under `dir`, using `scratch` for spilled runs.
pub(crate) fn sort(
    map_outputs: &[PathBuf],
    partitions: usize,
    dir: &Path,
    scratch: &Path,
    budget: usize,
    cancel: &CancellationToken,
) -> Result<Vec<PathBuf>, Stop> {
    for d in [dir, scratch] {
        std::fs::create_dir_all(d).map_err(Stop::file("cannot create", d))?;
    }
    let mut arena: Vec<u8> = Vec::new();
    let mut held: Vec<Held> = Vec::new();
    let mut runs: Vec<Run> = Vec::new();
    let mut count = 0u64;
    for path in map_outputs {
        let file = File::open(path).map_err(Stop::file("cannot read", path))?;
        let mut lines = LineReader::new(BufReader::new(file));
        while let Some(line) = lines.next_line().map_err(Stop::file("cannot read", path))? {
            count += 1;
            if count.is_multiple_of(CANCEL_EVERY) && cancel.is_cancelled() {
                return Err(Stop::Canceled);
            }
            let start = arena.len();
            let key = start + key_end(line);
            arena.extend_from_slice(line);
            if key == arena.len() {
                arena.push(b'\t');
            }
            held.push(Held {
                partition: partition_of(&arena[start..key], partitions),
                start,
                key,
                end: arena.len(),
            });
            if arena.len() + held.len() * std::mem::size_of::<Held>() >= budget {
                let path = scratch.join(format!("run-{:05}", runs.len()));
                runs.push(spill(&arena, &mut held, partitions, &path)?);
                arena.clear();
                held.clear();
            }
        }
    }
    let inputs: Vec<PathBuf> = (0..partitions)
        .map(|p| dir.join(format!("{p:05}")))
        .collect();
    if runs.is_empty() {
        // Everything fit in memory: write each partition straight to its reducer's input.
        sort_held(&arena, &mut held);
        let mut at = 0;
        for (p, target) in inputs.iter().enumerate() {
            let file = File::create(target).map_err(Stop::file("cannot create", target))?;
            let mut out = BufWriter::new(file);
            while at < held.len() && held[at].partition == p {
                let h = &held[at];
                out.write_all(&arena[h.start..h.end])
                    .and_then(|()| out.write_all(b"\n"))
                    .map_err(Stop::file("cannot write", target))?;
                at += 1;
            }
            out.flush().map_err(Stop::file("cannot write", target))?;
        }
        return Ok(inputs);
    }
    if !held.is_empty() {
        let path = scratch.join(format!("run-{:05}", runs.len()));
        runs.push(spill(&arena, &mut held, partitions, &path)?);
    }
    drop(arena);
    for (p, target) in inputs.iter().enumerate() {
        merge(&runs, p, target, cancel)?;
    }
    for run in &runs {
        let _ = std::fs::remove_file(&run.path);
    }
    Ok(inputs)
}

fn sort_held(arena: &[u8], held: &mut [Held]) {
    // Stable, so equal keys keep their order of arrival.
    held.sort_by(|a, b| {
        a.partition
            .cmp(&b.partition)
            .then_with(|| arena[a.start..a.key].cmp(&arena[b.start..b.key]))
    });
}

fn spill(arena: &[u8], held: &mut [Held], partitions: usize, path: &Path) -> Result<Run, Stop> {
    sort_held(arena, held);
    let file = File::create(path).map_err(Stop::file("cannot create", path))?;
    let mut out = BufWriter::new(file);
    let mut segments = Vec::with_capacity(partitions);
    let (mut offset, mut at) = (0u64, 0);
    for p in 0..partitions {
        let start = offset;
        while at < held.len() && held[at].partition == p {
            let line = &arena[held[at].start..held[at].end];
            out.write_all(line)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(Stop::file("cannot write", path))?;
            offset += line.len() as u64 + 1;
            at += 1;
        }
        segments.push((start, offset));
    }
    out.flush().map_err(Stop::file("cannot write", path))?;
    Ok(Run {
        path: path.to_path_buf(),
        segments,
    })
}

/// The current line of one run in a merge. Ordered so that a max-heap yields the smallest key
/// first, and of equal keys the earliest run.
struct Head {
    line: Vec<u8>,
    key: usize,
    run: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        (&other.line[..other.key], other.run).cmp(&(&self.line[..self.key], self.run))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

type Segment = LineReader<BufReader<io::Take<File>>>;

fn merge(
    runs: &[Run],
    partition: usize,
    target: &Path,
    cancel: &CancellationToken,
) -> Result<(), Stop> {
    let mut readers: Vec<Segment> = Vec::with_capacity(runs.len());
    let mut heap = BinaryHeap::with_capacity(runs.len());
    for (k, run) in runs.iter().enumerate() {
        let (start, end) = run.segments[partition];
        let mut file = File::open(&run.path).map_err(Stop::file("cannot read", &run.path))?;
        file.seek(SeekFrom::Start(start))
            .map_err(Stop::file("cannot read", &run.path))?;
        let mut reader = LineReader::new(BufReader::new(file.take(end - start)));
        if let Some(head) = next_head(&mut reader, k, &run.path)? {
            heap.push(head);
        }
        readers.push(reader);
    }
    let file = File::create(target).map_err(Stop::file("cannot create", target))?;
    let mut out = BufWriter::new(file);
    let mut count = 0u64;
    while let Some(head) = heap.pop() {
        count += 1;
        if count.is_multiple_of(CANCEL_EVERY) && cancel.is_cancelled() {
            return Err(Stop::Canceled);
        }
        out.write_all(&head.line)
            .and_then(|()| out.write_all(b"\n"))
            .map_err(Stop::file("cannot write", target))?;
        if let Some(next) = next_head(&mut readers[head.run], head.run, &runs[head.run].path)? {
            heap.push(next);
        }
    }
    out.flush().map_err(Stop::file("cannot write", target))
}

fn next_head(reader: &mut Segment, run: usize, path: &Path) -> Result<Option<Head>, Stop> {
    let line = reader
        .next_line()
        .map_err(Stop::file("cannot read", path))?;
    Ok(line.map(|line| Head {
        line: line.to_vec(),
        key: key_end(line),
        run,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    #[test]
    fn partitions_match_hadoops_hash_partitioner() {
        // Text("a").hashCode() = 31 + 97; "é" is the signed bytes -61, -87.
        assert_eq!(partition_of(b"a", 3), 128 % 3);
        assert_eq!(partition_of(b"ab", 1000), (31 * 128 + 98) % 1000);
        assert_eq!(partition_of("é".as_bytes(), 1000), 2147482631 % 1000);
        assert_eq!(partition_of(b"anything", 1), 0);
    }

    #[test]
    fn records_gain_a_tab_and_lose_carriage_returns() {
        let dir = tempfile::tempdir().unwrap();
        let (raw, out) = (dir.path().join("raw"), dir.path().join("out"));
        std::fs::write(&raw, "k\tv\r\nplain\n\nlast").unwrap();
        let size = normalize(&raw, &out, &CancellationToken::new()).unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "k\tv\nplain\t\n\t\nlast\t\n"
        );
        assert_eq!(size, 19);
    }

    fn sorted(budget: usize) -> (tempfile::TempDir, Vec<Vec<String>>) {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, "b\t1\na\t1\nc\nb\t2\né\t1\n").unwrap();
        std::fs::write(&b, "b\t3\na\t2\n").unwrap();
        let parts = sort(
            &[a, b],
            2,
            &dir.path().join("in"),
            &dir.path().join("spill"),
            budget,
            &CancellationToken::new(),
        )
        .unwrap();
        let content = parts.iter().map(|p| lines(p)).collect();
        (dir, content)
    }

    #[test]
    fn sorting_is_stable_by_key_within_hadoops_partitions() {
        let (_dir, in_memory) = sorted(SPILL_BYTES);
        // a: 128 % 2 = 0, b: 129 % 2 = 1, c: 130 % 2 = 0, é: 2147482631 % 2 = 1.
        assert_eq!(in_memory[0], ["a\t1", "a\t2", "c\t"]);
        assert_eq!(in_memory[1], ["b\t1", "b\t2", "b\t3", "é\t1"]);
        // A budget smaller than one record spills every line; the merge gives the same.
        let (dir, spilled) = sorted(1);
        assert_eq!(spilled, in_memory);
        assert_eq!(
            std::fs::read_dir(dir.path().join("spill")).unwrap().count(),
            0
        );
    }

    #[test]
    fn a_canceled_sort_stops() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("m");
        std::fs::write(&input, "k\tv\n".repeat(10_000)).unwrap();
        let cancel = CancellationToken::new();
        cancel.cancel();
        let result = sort(
            &[input],
            1,
            &dir.path().join("in"),
            &dir.path().join("s"),
            SPILL_BYTES,
            &cancel,
        );
        assert!(matches!(result, Err(Stop::Canceled)), "{result:?}");
    }
}
