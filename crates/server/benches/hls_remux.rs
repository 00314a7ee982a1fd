//! HLS remux benchmark (run by scripts/bench-hls): for each MP4 given on the command line,
//! (1) a cold index + playlists: open, read the movie with core, cut segments, write the init
//! segment and both playlists, exactly as the server does on a cache miss; (2) segment remux
//! speed: every segment's moof written by core and its body streamed through the server's
//! `SegmentObject` (page-cached source reads) into /dev/null, on one thread.
//!
//! Usage: `cargo bench -p frameseek-server --bench hls_remux -- FILE...` (prints JSON lines).

use frameseek_server::hls::object::SegmentObject;
use frameseek_server::hls::{Package, Prepared};
use frameseek_server::storage::{LocalFile, Object};
use futures_util::StreamExt;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Process CPU time (user + system) from /proc/self/stat, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at state (field 3).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median time of core's `read_movie` alone (positioned reads + track index).
fn read_only(path: &Path) -> f64 {
    let mut ms = Vec::new();
    for _ in 0..7 {
        let t0 = Instant::now();
        let file = LocalFile::open(path).expect("open");
        let size = file.len();
        let movie = frameseek_core::read_movie(size, |a, b| -> anyhow::Result<Vec<u8>> {
            Ok(file.read_at(a, (b - a) as usize)?.to_vec())
        })
        .expect("movie");
        ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        assert!(!movie.tracks.is_empty());
    }
    median(ms)
}

fn cold_playlists(path: &Path, target: f64) -> (f64, f64, usize, usize) {
    let mut index_ms = Vec::new();
    let mut total_ms = Vec::new();
    let mut samples = 0;
    let mut segments = 0;
    for _ in 0..7 {
        let t0 = Instant::now();
        let file = LocalFile::open(path).expect("open");
        let package = Package::read(&file, target).expect("package");
        let t1 = Instant::now();
        samples = package
            .movie
            .tracks
            .iter()
            .map(|t| t.index.sample_count())
            .sum();
        segments = package.segments.len();
        let prepared = Prepared::new(package, "0123456789abcdef".into());
        let t2 = Instant::now();
        assert!(!prepared.master.is_empty() && !prepared.media.is_empty());
        index_ms.push((t1 - t0).as_secs_f64() * 1000.0);
        total_ms.push((t2 - t0).as_secs_f64() * 1000.0);
    }
    (median(index_ms), median(total_ms), samples, segments)
}

async fn remux_pass(file: &Arc<dyn Object>, package: &Package, sink: &mut std::fs::File) -> u64 {
    let mut bytes = 0u64;
    for n in 0..package.segments.len() {
        let fragment = package.fragment(n).expect("fragment");
        let segment = Arc::new(SegmentObject::new(
            Arc::clone(file),
            fragment,
            String::new(),
        ));
        let len = segment.len();
        let mut stream = segment.read_range(0..len);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.expect("chunk");
            sink.write_all(&chunk).expect("write");
            bytes += chunk.len() as u64;
        }
    }
    bytes
}

fn remux_speed(path: &Path, target: f64, min: Duration) -> (f64, f64, u64, f64) {
    let file: Arc<dyn Object> = Arc::new(LocalFile::open(path).expect("open"));
    let package = Package::read(file.as_ref(), target).expect("package");
    // Warm the page cache: the measurement is of the remux, not of the disk.
    let _ = std::fs::read(path);
    let mut sink = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .expect("/dev/null");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        remux_pass(&file, &package, &mut sink).await;
        let (t0, c0) = (Instant::now(), cpu_seconds());
        let mut bytes = 0;
        let mut passes = 0;
        while t0.elapsed() < min || passes < 3 {
            bytes += remux_pass(&file, &package, &mut sink).await;
            passes += 1;
        }
        let wall = t0.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - c0;
        // Header writing alone (moof for every segment), per pass.
        let h0 = Instant::now();
        let mut headers = 0usize;
        for n in 0..package.segments.len() {
            headers += package.fragment(n).map_or(0, |f| f.header.len());
        }
        let header_ms = h0.elapsed().as_secs_f64() * 1000.0;
        assert!(headers > 0);
        (
            bytes as f64 / wall,
            bytes as f64 / cpu.max(1e-9),
            bytes / passes,
            header_ms,
        )
    })
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let target: f64 = std::env::var("HLS_SEGMENT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6.0);
    let min = Duration::from_secs_f64(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3.0),
    );
    if args.is_empty() {
        // `cargo bench` with no files (e.g. over the workspace): nothing to measure.
        eprintln!("hls_remux: no files given (scripts/bench-hls makes and passes them)");
        return;
    }
    for path in &args {
        let path = Path::new(path);
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let read_ms = read_only(path);
        let (index_ms, total_ms, samples, segments) = cold_playlists(path, target);
        let (wall_bps, cpu_bps, segment_bytes, header_ms) = remux_speed(path, target, min);
        println!(
            "{}",
            serde_json::json!({
                "file": path.file_name().map(|n| n.to_string_lossy()),
                "size": size,
                "samples": samples,
                "segments": segments,
                "read_ms": read_ms,
                "index_ms": index_ms,
                "playlists_ms": total_ms,
                "remux_bytes_per_s": wall_bps,
                "remux_bytes_per_cpu_s": cpu_bps,
                "segment_bytes": segment_bytes,
                "headers_ms": header_ms,
            })
        );
    }
}
