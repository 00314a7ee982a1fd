//! Hostile input: every fixture truncated at every box boundary, box sizes and entry counts
//! overwritten with huge values, random bytes and random mutations. The reader must return
//! (an index or a typed error), never panic, and never allocate much more than the input.

use frameseek_core::{read_movie, Error, Movie};
use frameseek_e2e::video_fixtures;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Tracks live and peak heap bytes of this test binary.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static SERIAL: Mutex<()> = Mutex::new(());

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Reads `data` as a whole file, returning the result and the peak heap growth it caused.
fn read_bounded(data: &[u8]) -> (Result<Movie, Error>, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = read_movie(data.len() as u64, |a, b| -> Result<Vec<u8>, Error> {
        Ok(data[a as usize..(b as usize).min(data.len())].to_vec())
    });
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    (r, peak)
}

/// Reads and checks the allocation bound: the index costs tens of bytes per sample, and
/// every sample takes at least a byte of a table or of the file.
fn check(data: &[u8], what: &str) -> Result<Movie, Error> {
    let (r, peak) = read_bounded(data);
    let limit = 64 * data.len() + (256 << 10);
    assert!(
        peak <= limit,
        "{what}: allocated {peak} bytes for {} bytes of input",
        data.len()
    );
    if let Ok(m) = &r {
        // Whatever was indexed must be plannable or fail with a typed error.
        if let Some(t) = m.video_track() {
            let n = t.index.frame_count();
            for k in [0, n / 2, n.saturating_sub(1), n] {
                let _ = frameseek_core::plan_frame(&t.index, k, &Default::default());
            }
        }
    }
    r
}

/// Offsets of every box start and end, walking into the container boxes.
fn box_boundaries(data: &[u8]) -> Vec<(usize, usize, [u8; 4])> {
    const CONTAINERS: [&[u8; 4]; 10] = [
        b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"mvex", b"moof", b"traf", b"dinf",
    ];
    let mut out = Vec::new();
    let mut stack = vec![(0usize, data.len())];
    while let Some((mut pos, end)) = stack.pop() {
        while pos + 8 <= end {
            let size = u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]])
                as usize;
            let kind = [data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]];
            let size = match size {
                0 => end - pos,
                1 if pos + 16 <= end => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&data[pos + 8..pos + 16]);
                    u64::from_be_bytes(b) as usize
                }
                s => s,
            };
            if size < 8 || pos + size > end {
                break;
            }
            out.push((pos, size, kind));
            if CONTAINERS.contains(&&kind) {
                stack.push((pos + 8, pos + size));
            }
            pos += size;
        }
    }
    out.sort();
    out
}

#[test]
fn truncation_at_every_box_boundary_is_an_error_or_an_index() {
    let _serial = SERIAL.lock();
    for f in video_fixtures() {
        let data = std::fs::read(f.path()).expect("fixture");
        let boxes = box_boundaries(&data);
        assert!(boxes.len() > 10, "{}: found boxes", f.file);
        let mut cuts: Vec<usize> = boxes
            .iter()
            .flat_map(|&(p, s, _)| [p, p + 4, p + 8, p + s - 1, p + s])
            .collect();
        cuts.sort();
        cuts.dedup();
        for cut in cuts.into_iter().filter(|&c| c <= data.len()) {
            let r = check(&data[..cut], &format!("{} cut at {cut}", f.file));
            if let Err(e) = r {
                assert!(
                    e.offset <= cut as u64 + 32,
                    "{}: error offset {} past the cut {cut}",
                    f.file,
                    e.offset
                );
            }
        }
    }
}

#[test]
fn huge_sizes_and_counts_are_rejected_without_allocating() {
    let _serial = SERIAL.lock();
    // Full boxes whose first field after version/flags is an entry count.
    const COUNTED: [&[u8; 4]; 8] = [
        b"stts", b"ctts", b"stss", b"stsc", b"stco", b"co64", b"elst", b"stsd",
    ];
    for f in video_fixtures() {
        let data = std::fs::read(f.path()).expect("fixture");
        for (pos, _, kind) in box_boundaries(&data) {
            for value in [
                0xffff_ffffu32,
                0x8000_0000,
                0x7fff_ffff,
                0x0100_0000,
                1,
                7,
                0,
            ] {
                let mut bad = data.clone();
                bad[pos..pos + 4].copy_from_slice(&value.to_be_bytes());
                let _ = check(
                    &bad,
                    &format!(
                        "{}: {} size {value:#x}",
                        f.file,
                        String::from_utf8_lossy(&kind)
                    ),
                );
                if COUNTED.contains(&&kind) && pos + 16 <= bad.len() {
                    let mut bad = data.clone();
                    bad[pos + 12..pos + 16].copy_from_slice(&value.to_be_bytes());
                    let _ = check(
                        &bad,
                        &format!(
                            "{}: {} count {value:#x}",
                            f.file,
                            String::from_utf8_lossy(&kind)
                        ),
                    );
                }
                if &kind == b"stsz" && pos + 20 <= bad.len() {
                    // Constant sample size 1 with a huge count must not allocate the count.
                    let mut bad = data.clone();
                    bad[pos + 12..pos + 16].copy_from_slice(&1u32.to_be_bytes());
                    bad[pos + 16..pos + 20].copy_from_slice(&value.to_be_bytes());
                    let _ = check(&bad, &format!("{}: stsz constant count {value:#x}", f.file));
                }
                if &kind == b"trun" && pos + 16 <= bad.len() {
                    let mut bad = data.clone();
                    bad[pos + 12..pos + 16].copy_from_slice(&value.to_be_bytes());
                    let _ = check(&bad, &format!("{}: trun count {value:#x}", f.file));
                }
            }
        }
    }
}

#[test]
fn stsz_claiming_four_billion_entries_in_one_kilobyte_is_an_error() {
    let _serial = SERIAL.lock();
    // A minimal file: ftyp + moov/trak/mdia/minf/stbl with a lying stsz.
    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }
    let full = |kind: &[u8; 4], body: &[u8]| bx(kind, &[&[0u8; 4][..], body].concat());
    let stsz = full(b"stsz", &[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    let stbl = bx(
        b"stbl",
        &[
            full(b"stsd", &[0, 0, 0, 0]),
            full(b"stts", &[0; 4]),
            full(b"stsc", &[0; 4]),
            full(b"stco", &[0; 4]),
            stsz,
        ]
        .concat(),
    );
    let mdhd = full(
        b"mdhd",
        &[&[0u8; 8][..], &1000u32.to_be_bytes(), &[0u8; 8]].concat(),
    );
    let hdlr = full(b"hdlr", &[&[0u8; 4][..], b"vide", &[0u8; 13]].concat());
    let mdia = bx(b"mdia", &[mdhd, hdlr, bx(b"minf", &stbl)].concat());
    let tkhd = full(b"tkhd", &[0u8; 80]);
    let mvhd = full(
        b"mvhd",
        &[&[0u8; 8][..], &1000u32.to_be_bytes(), &[0u8; 84]].concat(),
    );
    let moov = bx(
        b"moov",
        &[mvhd, bx(b"trak", &[tkhd, mdia].concat())].concat(),
    );
    let file = [bx(b"ftyp", b"isom\0\0\0\0isom"), moov].concat();
    assert!(file.len() < 1024);
    let err = check(&file, "lying stsz").expect_err("must fail");
    assert!(
        matches!(err.kind, frameseek_core::ErrorKind::TooLarge { .. }),
        "{err}"
    );
}

#[test]
fn random_bytes_and_mutations_never_panic() {
    let _serial = SERIAL.lock();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for len in [0usize, 1, 7, 8, 16, 100, 4096, 65536] {
        for _ in 0..20 {
            let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let _ = check(&data, "random bytes");
        }
    }
    for f in video_fixtures() {
        let data = std::fs::read(f.path()).expect("fixture");
        // Mutate only the header boxes (ftyp/moov/moof), where the parser reads.
        let header: Vec<(usize, usize)> = box_boundaries(&data)
            .into_iter()
            .filter(|(_, _, k)| matches!(k, b"moov" | b"moof" | b"ftyp"))
            .map(|(p, s, _)| (p, s))
            .collect();
        for _ in 0..150 {
            let mut bad = data.clone();
            for _ in 0..1 + next() % 8 {
                let (p, s) = header[(next() % header.len() as u64) as usize];
                let at = p + (next() % s as u64) as usize;
                bad[at] = next() as u8;
            }
            let _ = check(&bad, &format!("{} mutated", f.file));
        }
    }
}

/// Files that are not MP4 reject as such, naming what they look like: other containers that
/// ffmpeg writes from a fixture, and the documents a server answers with instead of video.
#[test]
fn other_formats_are_named() {
    let dir = std::env::temp_dir().join(format!("frameseek-not-mp4-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = frameseek_e2e::fixtures_dir().join("h264_aac.mp4");
    let src = src.to_str().expect("path");
    let mut cases: Vec<(Vec<u8>, &str)> = Vec::new();
    for (name, args, found) in [
        ("x.mkv", &["-c", "copy"][..], "(WebM/Matroska?)"),
        ("x.ts", &["-c", "copy", "-f", "mpegts"][..], "(MPEG-TS?)"),
        ("x.avi", &["-c:v", "mpeg4", "-an"][..], "(AVI?)"),
    ] {
        let out = dir.join(name);
        let out = out.to_str().expect("path");
        let mut args_all = vec!["-i", src];
        args_all.extend_from_slice(args);
        args_all.push(out);
        frameseek_e2e::ffmpeg(&args_all);
        cases.push((std::fs::read(out).expect("output"), found));
    }
    cases.push((
        b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n".to_vec(),
        "an HLS playlist",
    ));
    cases.push((
        b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>".to_vec(),
        "(an HTML/XML page: an error?)",
    ));
    cases.push((
        b"<!doctype html><title>login</title>".to_vec(),
        "(an HTML/XML page",
    ));
    cases.push((b"{\"error\":\"expired\"}".to_vec(), "(JSON: an error?)"));
    // "G" opens a GIF as well as a transport stream.
    let mut gif = b"GIF89a".to_vec();
    gif.resize(400, 0);
    cases.push((gif, ""));
    cases.push((vec![0xf5, 0x8e, 0x22, 0x64, 0, 0, 0, 0, 1, 2], ""));
    for (data, found) in cases {
        let err = read_movie(data.len() as u64, |a, b| -> Result<Vec<u8>, Error> {
            Ok(data[a as usize..(b as usize).min(data.len())].to_vec())
        })
        .expect_err("not an MP4");
        let msg = err.to_string();
        assert!(msg.starts_with("not an MP4/MOV file"), "{msg}");
        if found.is_empty() {
            assert_eq!(msg, "not an MP4/MOV file at byte 0");
        } else {
            assert!(msg.contains(found), "{msg}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A track whose chunks switch to a second sample description (a configuration change, as
/// concatenating tools write) is refused, rather than some of its samples decoded with the
/// first description's configuration.
#[test]
fn a_second_sample_description_is_refused() {
    let path = frameseek_e2e::fixtures_dir().join("h264_bframes_editlist.mp4");
    let mut data = std::fs::read(path).expect("fixture");
    let at = data
        .windows(4)
        .position(|w| w == b"stsc")
        .expect("stsc box");
    // Its one entry, at `at + 12` after version+flags and the count: first_chunk,
    // samples_per_chunk, sample_description_index.
    let index = at + 12 + 8;
    assert_eq!(data[index..index + 4], [0, 0, 0, 1]);
    let read = |data: &[u8]| {
        read_movie(data.len() as u64, |a, b| -> Result<Vec<u8>, Error> {
            Ok(data[a as usize..(b as usize).min(data.len())].to_vec())
        })
    };
    assert!(read(&data).is_ok());
    data[index + 3] = 2;
    let err = read(&data).expect_err("refused");
    assert_eq!(
        err.to_string(),
        format!(
            "unsupported: a second sample description at byte {}",
            at + 12
        )
    );
}
