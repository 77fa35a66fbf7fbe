//! What the readers read and hold is bounded: gzip bombs, huge declared
//! sizes, and property tests over arbitrary and mutated files (never a
//! panic, every error one line naming the file). Memory is measured as the
//! rise of the process's peak resident size (Linux), so the tests in this
//! file run one at a time.
mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use common::{gzip, idx_bytes, write};
use mnist_data::csv::{MAX_CSV_LINE_BYTES, read_csv, read_csv_limited};
use mnist_data::idx::{self, MAX_IDX_DATA_BYTES, read_idx, read_idx_bytes};
use mnist_data::{DataError, Dataset, Images, Labels, two_digit};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const MIB: u64 = 1 << 20;

/// Decompressed size of the gzip bombs.
const BOMB: u64 = 64 * MIB;

/// The most a read in these tests may add to peak memory.
const READ_BOUND: u64 = 16 * MIB;

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f`; returns its result and how far it raised peak resident memory
/// (`None` where that cannot be measured).
fn peak_rise<T>(f: impl FnOnce() -> T) -> (T, Option<u64>) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_kib("VmRSS:");
    let out = f();
    let after = status_kib("VmHWM:");
    let rise = match (reset, before, after) {
        (true, Some(b), Some(a)) => Some(a.saturating_sub(b) * 1024),
        _ => None,
    };
    (out, rise)
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn assert_bounded(rise: Option<u64>, bound: u64) {
    if let Some(rise) = rise {
        assert!(rise < bound, "peak memory rose by {rise} bytes");
    }
}

/// `head` followed by `count` copies of `byte`, gzipped, without holding
/// them all.
fn gzip_bomb(head: &[u8], byte: u8, count: u64) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(head).expect("gzip");
    std::io::copy(&mut std::io::repeat(byte).take(count), &mut enc).expect("gzip");
    enc.finish().expect("gzip")
}

#[test]
fn idx_gzip_bomb_with_a_bad_header_stops_at_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bomb-type", &gzip_bomb(&[0, 0, 0, 1], 0, BOMB));
    let (result, rise) = peak_rise(|| read_idx(&path));
    let msg = result.unwrap_err().to_string();
    assert!(msg.contains("bomb-type") && msg.contains("0x00"), "{msg}");
    assert_bounded(rise, READ_BOUND);
}

#[test]
fn idx_gzip_bomb_after_a_valid_header_stops_after_the_declared_data() {
    let dir = tempfile::tempdir().unwrap();
    let head = idx_bytes(8, &[10], &[1; 10]);
    let path = write(dir.path(), "bomb-data", &gzip_bomb(&head, 0, BOMB));
    let (result, rise) = peak_rise(|| read_idx(&path));
    let err = result.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, DataError::TrailingData { expected: 10, .. }),
        "{msg}"
    );
    assert!(msg.contains("bomb-data") && msg.contains("[10]"), "{msg}");
    assert_bounded(rise, READ_BOUND);
}

#[test]
fn declared_size_above_the_limit_is_rejected_before_reading_the_data() {
    let dir = tempfile::tempdir().unwrap();
    // 10^12 elements (10^6 × 10^6), and a product that overflows.
    for (name, dims) in [
        ("tera", vec![1_000_000u32, 1_000_000]),
        ("overflow", vec![u32::MAX, u32::MAX, u32::MAX]),
    ] {
        let path = write(dir.path(), name, &idx_bytes(8, &dims, &[0; 64]));
        let (result, rise) = peak_rise(|| read_idx(&path));
        let err = result.unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataError::TooLarge { .. }), "{msg}");
        let shape = format!("{dims:?}");
        assert!(
            msg.contains(name) && msg.contains(&shape) && msg.contains("limit"),
            "{msg}"
        );
        assert_bounded(rise, READ_BOUND);
    }
    // The in-memory parser applies the same limit.
    let over = (MAX_IDX_DATA_BYTES + 1) as u32;
    let err = idx::parse_idx(Path::new("mem"), idx_bytes(8, &[over], &[])).unwrap_err();
    assert!(matches!(err, DataError::TooLarge { .. }), "{err}");
}

#[test]
fn csv_gzip_bomb_stops_at_the_first_overlong_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bomb.csv.gz", &gzip_bomb(&[], b'0', BOMB));
    let (result, rise) = peak_rise(|| read_csv(&path));
    let err = result.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, DataError::CsvLineTooLong { line: 1, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("bomb.csv.gz") && msg.contains(&MAX_CSV_LINE_BYTES.to_string()),
        "{msg}"
    );
    assert_bounded(rise, READ_BOUND);
}

#[test]
fn csv_stops_at_its_byte_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "newlines.csv.gz",
        &gzip_bomb(&[], b'\n', 4 * MIB),
    );
    let (result, rise) = peak_rise(|| read_csv_limited(&path, MIB));
    let err = result.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DataError::CsvTooLarge { .. }), "{msg}");
    assert!(
        msg.contains("newlines.csv.gz") && msg.contains(&MIB.to_string()),
        "{msg}"
    );
    assert_bounded(rise, READ_BOUND);
}

// Property tests.

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Runs a property over `cases` inputs, within the memory bound.
fn check<S: Strategy>(
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let (result, rise) = peak_rise(|| runner(cases).run(&strategy, test));
    if let Err(e) = result {
        panic!("{e}");
    }
    assert_bounded(rise, 4 * READ_BOUND);
}

/// One change to a file's bytes.
#[derive(Clone, Debug)]
enum Mutation {
    /// XOR the byte at this position (modulo the length) with a nonzero mask.
    Flip(usize, u8),
    /// Keep only this many bytes (modulo the length + 1).
    Truncate(usize),
    /// Set an IDX header field: byte 2 (type), 3 (rank), or dimension k.
    HeaderByte(usize, u8),
    Dimension(usize, u32),
    /// Put one of the bytes CSV cares about at this position.
    CsvByte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let dim = prop_oneof![0..6u32, any::<u32>(), Just(u32::MAX), Just(1 << 30)];
    let csv_byte = prop::sample::select(&b",\n\r\"a9- 0\xff"[..]);
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, m)| Mutation::Flip(i, m)),
        any::<usize>().prop_map(Mutation::Truncate),
        (2..4usize, any::<u8>()).prop_map(|(i, b)| Mutation::HeaderByte(i, b)),
        (0..4usize, dim).prop_map(|(k, d)| Mutation::Dimension(k, d)),
        (any::<usize>(), csv_byte).prop_map(|(i, b)| Mutation::CsvByte(i, b)),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutations: &[Mutation]) {
    for m in mutations {
        let len = bytes.len();
        match *m {
            Mutation::Flip(i, mask) if len > 0 => bytes[i % len] ^= mask,
            Mutation::CsvByte(i, b) if len > 0 => bytes[i % len] = b,
            Mutation::Truncate(n) => bytes.truncate(n % (len + 1)),
            Mutation::HeaderByte(i, b) if i < len => bytes[i] = b,
            Mutation::Dimension(k, d) if 8 + 4 * k <= len => {
                bytes[4 + 4 * k..8 + 4 * k].copy_from_slice(&d.to_be_bytes());
            }
            _ => {}
        }
    }
}

/// A file's bytes: `plain` changed by `before`, gzipped if asked, then
/// changed by `after` (so both the stream and its content get damaged).
fn damaged(plain: &[u8], gz: bool, before: &[Mutation], after: &[Mutation]) -> Vec<u8> {
    let mut bytes = plain.to_vec();
    apply(&mut bytes, before);
    if gz {
        bytes = gzip(&bytes);
    }
    apply(&mut bytes, after);
    bytes
}

fn mutations() -> impl Strategy<Value = (bool, Vec<Mutation>, Vec<Mutation>)> {
    (
        any::<bool>(),
        prop::collection::vec(mutation(), 0..4),
        prop::collection::vec(mutation(), 0..3),
    )
}

/// A new file `{dir}/{name}-{n}` holding `bytes` (a new file per case: a
/// rewritten one may be flushed to disk by the file system, which is slow).
fn case_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static CASE: AtomicUsize = AtomicUsize::new(0);
    let n = CASE.fetch_add(1, Ordering::Relaxed);
    write(dir, &format!("{name}-{n}"), bytes)
}

/// An error is one line and names `name` (a file, or a prefix of both files).
fn names<T>(result: Result<T, DataError>, name: &str) -> Result<Option<T>, TestCaseError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) => {
            let msg = err.to_string();
            prop_assert!(msg.contains(name), "error does not name {name}: {msg}");
            prop_assert!(!msg.contains('\n'), "error is not one line: {msg}");
            Ok(None)
        }
    }
}

/// Every IDX reader on the file at `path` (named `name`).
fn read_as_idx(path: &Path, name: &str, labels: &Path) -> Result<(), TestCaseError> {
    if let Some(array) = names(read_idx(path), name)? {
        let declared = array.dims.iter().product::<usize>();
        prop_assert_eq!(array.data.len(), declared);
        prop_assert!(declared <= MAX_IDX_DATA_BYTES);
    }
    names(read_idx_bytes(path), name)?;
    names(idx::read_images(path), name)?;
    names(idx::read_labels(path), name)?;
    if let Some(set) = names(idx::read_dataset(path, labels), name)? {
        prop_assert!(!set.is_empty());
    }
    Ok(())
}

fn idx_file() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(1..5u32, 1..4).prop_flat_map(|dims| {
        let len = dims.iter().product::<u32>() as usize;
        prop::collection::vec(prop_oneof![0..10u8, any::<u8>()], len)
            .prop_map(move |data| idx_bytes(8, &dims, &data))
    })
}

#[test]
fn idx_readers_never_panic_on_damaged_files() {
    let dir = tempfile::tempdir().unwrap();
    let labels = write(dir.path(), "good-labels", &idx_bytes(8, &[2], &[1, 2]));
    let name = "damaged-idx-file";
    check(
        1500,
        (idx_file(), mutations()),
        |(plain, (gz, before, after))| {
            let path = case_file(dir.path(), name, &damaged(&plain, gz, &before, &after));
            read_as_idx(&path, name, &labels)?;
            std::fs::remove_file(&path).unwrap();
            Ok(())
        },
    );
}

#[test]
fn readers_never_panic_on_arbitrary_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let labels = write(dir.path(), "good-labels", &idx_bytes(8, &[2], &[1, 2]));
    let name = "arbitrary-file";
    let bytes = prop::collection::vec(any::<u8>(), 0..512);
    check(1000, (bytes, any::<bool>()), |(bytes, gz)| {
        let path = case_file(dir.path(), name, &if gz { gzip(&bytes) } else { bytes });
        read_as_idx(&path, name, &labels)?;
        names(read_csv(&path), name)?;
        std::fs::remove_file(&path).unwrap();
        Ok(())
    });
}

fn csv_file() -> impl Strategy<Value = Vec<u8>> {
    let row = prop::collection::vec(any::<u8>(), 785);
    (
        prop::collection::vec(row, 1..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(rows, labelled, header)| {
            let mut text = String::new();
            if header {
                let names = (0..784).map(|i| format!("pixel{i}"));
                let cols: Vec<String> = labelled
                    .then(|| "label".to_string())
                    .into_iter()
                    .chain(names)
                    .collect();
                text += &cols.join(",");
                text.push('\n');
            }
            for row in rows {
                let skip = usize::from(!labelled);
                let mut fields: Vec<String> = row[skip..].iter().map(u8::to_string).collect();
                if labelled {
                    fields[0] = (row[0] % 10).to_string();
                }
                text += &fields.join(",");
                text.push('\n');
            }
            text.into_bytes()
        })
}

#[test]
fn csv_reader_never_panics_on_damaged_files() {
    let dir = tempfile::tempdir().unwrap();
    let name = "damaged.csv";
    check(
        400,
        (csv_file(), mutations()),
        |(plain, (gz, before, after))| {
            let path = case_file(dir.path(), name, &damaged(&plain, gz, &before, &after));
            if let Some(read) = names(read_csv(&path), name)? {
                prop_assert!(read.images.count >= 1);
                if let Some(labels) = read.labels {
                    prop_assert_eq!(labels.count(), read.images.count);
                }
            }
            std::fs::remove_file(&path).unwrap();
            Ok(())
        },
    );
}

fn two_digit_set() -> impl Strategy<Value = Dataset> {
    (1..4usize).prop_flat_map(|n| {
        (
            prop::collection::vec(any::<u8>(), n * two_digit::HEIGHT * two_digit::WIDTH),
            prop::collection::vec(0..10u8, 2 * n),
        )
            .prop_map(move |(pixels, labels)| {
                Dataset::new(
                    Images::new(n, two_digit::HEIGHT, two_digit::WIDTH, pixels),
                    Labels::new(2, labels),
                )
            })
    })
}

#[test]
fn two_digit_loader_never_panics_on_damaged_files() {
    let dir = tempfile::tempdir().unwrap();
    let name = "damaged-pair";
    let strategy = (two_digit_set(), any::<bool>(), mutations());
    check(
        400,
        strategy,
        |(set, damage_labels, (gz, before, after))| {
            // A new prefix per case; the files written as they are.
            let prefix = case_file(dir.path(), name, &[]);
            let n = set.len() as u32;
            let (h, w) = (two_digit::HEIGHT as u32, two_digit::WIDTH as u32);
            let mut images = idx_bytes(8, &[n, h, w], &set.images.pixels);
            let mut labels = idx_bytes(8, &[n, 2], &set.labels.values);
            let target = if damage_labels {
                &mut labels
            } else {
                &mut images
            };
            *target = damaged(target, gz, &before, &after);
            let file = |suffix: &str| {
                let mut path = prefix.clone().into_os_string();
                path.push(suffix);
                PathBuf::from(path)
            };
            let paths = [file("-images-idx3-ubyte"), file("-labels-idx2-ubyte")];
            std::fs::write(&paths[0], &images).unwrap();
            std::fs::write(&paths[1], &labels).unwrap();
            if let Some(back) = names(two_digit::load(&prefix), name)? {
                prop_assert_eq!(back.labels.heads, 2);
                prop_assert_eq!(
                    (back.images.height, back.images.width),
                    (two_digit::HEIGHT, two_digit::WIDTH)
                );
            }
            for path in paths.iter().chain([&prefix]) {
                std::fs::remove_file(path).unwrap();
            }
            Ok(())
        },
    );
}
