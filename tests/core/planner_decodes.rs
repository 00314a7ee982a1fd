//! The range planner against ffmpeg: for every frame of every fixture, the samples the
//! planner names — read only from the byte ranges it plans — decode (as an Annex B or IVF
//! stream, no container) to a picture identical to the reference decode of that frame.

use frameseek_core::{
    plan_frame, plan_frames, read_movie, soft_feed, ByteRange, Error, Movie, PlanOptions, SoftFeed,
    TrackIndex, SOFT_EXTRA,
};
use frameseek_e2e::{
    annex_b, barcode, ffmpeg_gray_frames, ffmpeg_gray_frames_logged, ivf, reference_frames,
    video_fixtures,
};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::Path;

fn hash(luma: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    luma.hash(&mut h);
    h.finish()
}

struct Subject {
    name: String,
    data: Vec<u8>,
    movie: Movie,
    width: usize,
    height: usize,
    codec: String,
    description: Option<Vec<u8>>,
    /// Hash of each reference frame's luma, by presentation index.
    reference: Vec<u64>,
}

fn subjects() -> Vec<Subject> {
    video_fixtures()
        .into_iter()
        .map(|f| Subject::new(&f.path(), &f.file))
        .collect()
}

impl Subject {
    fn new(path: &Path, name: &str) -> Self {
        let data = std::fs::read(path).expect("fixture");
        let movie = read_movie(data.len() as u64, |a, b| -> Result<Vec<u8>, Error> {
            Ok(data[a as usize..(b as usize).min(data.len())].to_vec())
        })
        .expect("movie");
        let track = movie.video_track().expect("video");
        let config = track.codec.clone().expect("codec");
        let v = config.video.clone().expect("video params");
        let (width, height) = (v.coded_width as usize, v.coded_height as usize);
        let reference: Vec<u64> = reference_frames(path, width, height)
            .iter()
            .map(|l| hash(l))
            .collect();
        Subject {
            name: name.to_string(),
            data,
            movie,
            width,
            height,
            codec: config.codec,
            description: config.description,
            reference,
        }
    }
}

impl Subject {
    fn index(&self) -> &TrackIndex {
        &self.movie.video_track().expect("video").index
    }

    /// A copy of the file holding only `ranges` (zeros elsewhere): proves the ranges suffice.
    fn sparse(&self, ranges: &[ByteRange]) -> Vec<u8> {
        let mut out = vec![0u8; self.data.len()];
        for r in ranges {
            assert!(
                r.end > r.start && r.end <= self.data.len() as u64,
                "bounded, in-file range {r:?}"
            );
            out[r.start as usize..r.end as usize]
                .copy_from_slice(&self.data[r.start as usize..r.end as usize]);
        }
        out
    }

    /// Decodes samples `first..=last` (from `bytes`) without a container; returns hashes of
    /// the output pictures keyed by their barcode.
    fn decode(&self, bytes: &[u8], first: usize, last: usize) -> HashMap<u32, u64> {
        let samples = self.samples(bytes, first, last);
        self.decode_samples(self.description.as_deref().unwrap_or_default(), &samples)
    }

    /// Samples `first..=last` (decode order), cut from `bytes` (a copy of the file).
    fn samples<'a>(&self, bytes: &'a [u8], first: usize, last: usize) -> Vec<&'a [u8]> {
        let index = self.index();
        (first..=last)
            .map(|i| {
                let smp = index.sample(i).expect("sample");
                &bytes[smp.offset as usize..(smp.offset + u64::from(smp.size)) as usize]
            })
            .collect()
    }

    /// Decodes `samples` (decode order) after the parameter sets of `description`.
    fn decode_samples(&self, description: &[u8], samples: &[&[u8]]) -> HashMap<u32, u64> {
        self.decode_samples_logged(description, samples).0
    }

    /// [`Self::decode_samples`], with ffmpeg's error log.
    fn decode_samples_logged(
        &self,
        description: &[u8],
        samples: &[&[u8]],
    ) -> (HashMap<u32, u64>, String) {
        let (format, stream) = if self.codec.starts_with("avc") {
            ("h264", annex_b(&self.codec, description, samples))
        } else if self.codec.starts_with("hvc") || self.codec.starts_with("hev") {
            ("hevc", annex_b(&self.codec, description, samples))
        } else if self.codec.starts_with("vp09") {
            (
                "ivf",
                ivf(b"VP90", self.width as u16, self.height as u16, samples),
            )
        } else {
            (
                "ivf",
                ivf(b"AV01", self.width as u16, self.height as u16, samples),
            )
        };
        // showall: ffmpeg otherwise withholds pictures decoded before an open-GOP recovery
        // point; the hash comparison below is what proves them exact.
        let (frames, log) = ffmpeg_gray_frames_logged(
            &["-flags2", "+showall", "-f", format, "-i", "pipe:0"],
            Some(&stream),
            self.width,
            self.height,
        );
        let frames = frames
            .iter()
            .map(|l| (barcode(l, self.width), hash(l)))
            .collect();
        (frames, log)
    }

    fn check(&self, k: usize, decoded: &HashMap<u32, u64>, what: &str) {
        let name = &self.name;
        let got = decoded
            .get(&(k as u32))
            .unwrap_or_else(|| panic!("{name}: frame {k} missing from {what}"));
        assert_eq!(
            *got, self.reference[k],
            "{name}: frame {k} differs from the reference decode ({what})"
        );
    }
}

#[test]
fn every_frame_decodes_from_its_gop_plan() {
    for s in subjects() {
        let index = s.index();
        let n = index.frame_count();
        assert_eq!(n, s.reference.len(), "{}", s.name);
        let all: Vec<usize> = (0..n).collect();
        let plans = plan_frames(index, &all, &PlanOptions::default()).expect("plan");
        let covered: usize = plans.iter().map(|p| p.frames.len()).sum();
        assert_eq!(covered, n, "{}: every frame planned once", s.name);
        for p in &plans {
            let bytes = s.sparse(&p.ranges);
            let decoded = s.decode(&bytes, p.run.first, p.run.last);
            for &k in &p.frames {
                s.check(k, &decoded, "its GOP pass");
            }
        }
    }
}

#[test]
fn single_frame_plans_decode_exactly() {
    for s in subjects() {
        let index = s.index();
        let n = index.frame_count();
        // First, last, middle, each GOP's first and last shown frame, and pseudo-random ones.
        let mut picks: BTreeSet<usize> = [0, n / 2, n - 1].into_iter().collect();
        for &sync in index.sync_samples().iter().take(8) {
            if let Some(k) = index.sample_frame(sync as usize) {
                picks.insert(k);
                picks.insert(k.saturating_sub(1));
                picks.insert((k + 1).min(n - 1));
            }
        }
        let mut x = 0x9e3779b97f4a7c15u64;
        for _ in 0..6 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            picks.insert((x % n as u64) as usize);
        }
        for k in picks {
            let plan = plan_frame(index, k, &PlanOptions::default()).expect("plan");
            assert!(
                index.sample(plan.run.first).expect("sample").sync,
                "{}: run starts at a sync sample",
                s.name
            );
            assert_eq!(
                plan.run.last, plan.sample,
                "{}: run ends at the frame",
                s.name
            );
            let bytes = s.sparse(&plan.ranges);
            let decoded = s.decode(&bytes, plan.run.first, plan.run.last);
            s.check(k, &decoded, "its own plan");
        }
    }
}

#[test]
fn soft_ends_decode_the_frames_before_them() {
    // A pass cut at a soft end (frames() that a later call may continue) fetches and feeds
    // only the samples its frames before the end need, plus SOFT_EXTRA: those decode them.
    for s in subjects() {
        let index = s.index();
        let all: Vec<usize> = (0..index.frame_count()).collect();
        let plans = plan_frames(index, &all, &PlanOptions::default()).expect("plan");
        for p in plans.iter().take(3) {
            let n = p.frames.len();
            for end in [
                p.frames[0] + 1,
                p.frames[n / 3],
                p.frames[n / 2],
                p.frames[n - 1],
            ] {
                let below: Vec<usize> = p.frames.iter().copied().filter(|&k| k < end).collect();
                let Some(run) = p.soft_run(index, end) else {
                    assert!(below.is_empty(), "{}: end {end}", s.name);
                    continue;
                };
                let need = below
                    .iter()
                    .map(|&k| index.frame_sample(k).expect("sample"))
                    .max()
                    .expect("frames below the end");
                assert_eq!(run.first, p.run.first, "{}: end {end}", s.name);
                assert_eq!(
                    run.last,
                    (need + SOFT_EXTRA).min(p.run.last),
                    "{}: end {end}",
                    s.name
                );
                let bytes = s.sparse(
                    &frameseek_core::plan::run_ranges(index, run, &PlanOptions::default())
                        .expect("ranges"),
                );
                let decoded = s.decode(&bytes, run.first, need);
                for &k in &below {
                    s.check(k, &decoded, "a pass cut at a soft end");
                }
                // Sample by sample: fed through the last frame's own sample, then drained, and
                // held once nothing before the end is pending.
                assert_eq!(
                    soft_feed(index, below.iter().copied(), need),
                    SoftFeed::Feed(need + SOFT_EXTRA)
                );
                assert_eq!(
                    soft_feed(index, below.iter().copied(), need + 1),
                    SoftFeed::Drain(need + 1 + SOFT_EXTRA)
                );
                assert_eq!(
                    soft_feed(index, std::iter::empty(), run.first),
                    SoftFeed::Hold
                );
            }
        }
    }
}

#[test]
fn span_ends_carry_the_samples_that_lie_together() {
    for s in subjects() {
        let index = s.index();
        let n = index.sample_count();
        for first in [0, n / 3, n / 2] {
            let last = (first + 64).min(n - 1);
            let end = frameseek_core::plan::span_end(index, first, last);
            let sample = |i| index.sample(i).expect("sample");
            let span_start = sample(first).offset;
            // These files keep each track's samples in ascending order, other tracks' chunks
            // between them: one request from `first` carries them all.
            let last_end = sample(last).offset + u64::from(sample(last).size);
            assert_eq!(end, last_end, "{}: samples {first}..={last}", s.name);
            for i in first..=last {
                let x = sample(i);
                assert!(
                    x.offset >= span_start && x.offset + u64::from(x.size) <= end,
                    "{}: sample {i}",
                    s.name
                );
            }
            // Samples that do not lie in ascending order: the first one alone.
            if last > first {
                assert_eq!(
                    frameseek_core::plan::span_end(index, last, first),
                    0,
                    "{}",
                    s.name
                );
            }
        }
    }
}

#[test]
fn plans_are_minimal_for_plain_gops() {
    // For a closed-GOP file every frame's run starts at its own GOP's sync sample.
    let s = subjects()
        .into_iter()
        .find(|s| s.name == "h264_faststart.mp4")
        .expect("fixture");
    let index = s.index();
    for k in 0..index.frame_count() {
        let plan = plan_frame(index, k, &PlanOptions::default()).expect("plan");
        assert_eq!(
            plan.run.first,
            index.sync_at_or_before(plan.sample),
            "frame {k}"
        );
        let needed: u64 = (plan.run.first..=plan.run.last)
            .map(|i| u64::from(index.sample(i).expect("sample").size))
            .sum();
        let fetched: u64 = plan.ranges.iter().map(ByteRange::len).sum();
        assert!(fetched >= needed, "frame {k}: ranges hold the samples");
        assert!(
            fetched <= needed + 16 * 1024 * plan.ranges.len() as u64,
            "frame {k}: gaps bounded"
        );
    }
    let past = plan_frame(index, index.frame_count(), &PlanOptions::default());
    assert!(past.is_err(), "a frame past the end is a typed error");
}

#[test]
fn open_gop_plans_start_at_idr_for_strict_decoders() {
    // ffmpeg marks open-GOP I-frames (recovery points) as sync samples; WebCodecs decoders
    // start only at IDR pictures. With is_decoder_start the planner walks back to an IDR,
    // and ffmpeg without +showall (withholding pictures before a recovery) shows every frame.
    let s = subjects()
        .into_iter()
        .find(|s| s.name == "h264_open_gop.mp4")
        .expect("fixture");
    let index = s.index();
    let config = s
        .movie
        .video_track()
        .expect("video")
        .codec
        .clone()
        .expect("codec");
    let is_start = |i: usize| {
        let smp = index.sample(i)?;
        frameseek_core::is_decoder_start(
            &config,
            &s.data[smp.offset as usize..(smp.offset + u64::from(smp.size)) as usize],
        )
    };
    let rejected = index
        .sync_samples()
        .iter()
        .filter(|&&i| is_start(i as usize) == Some(false))
        .count();
    assert!(rejected > 0, "the fixture has recovery-point sync samples");
    for k in (0..index.frame_count())
        .step_by(7)
        .chain([index.frame_count() - 1])
    {
        let plan = frameseek_core::plan_frame_where(index, k, &PlanOptions::default(), &is_start)
            .expect("plan");
        assert_eq!(
            is_start(plan.run.first),
            Some(true),
            "frame {k}: run starts at an IDR"
        );
        let bytes = s.sparse(&plan.ranges);
        let samples = s.samples(&bytes, plan.run.first, plan.run.last);
        let stream = annex_b(
            &s.codec,
            s.description.as_deref().unwrap_or_default(),
            &samples,
        );
        let frames = ffmpeg_gray_frames(
            &["-f", "h264", "-i", "pipe:0"],
            Some(&stream),
            s.width,
            s.height,
        );
        let decoded: HashMap<u32, u64> = frames
            .iter()
            .map(|l| (barcode(l, s.width), hash(l)))
            .collect();
        s.check(k, &decoded, "a strict decode from the IDR");
    }
}

#[test]
fn time_plans_pick_the_frame_on_screen() {
    for s in subjects() {
        let index = s.index();
        let ts = f64::from(index.timescale());
        for k in [0, index.frame_count() / 3, index.frame_count() - 1] {
            let pts = index.frame_pts(k).expect("pts") as f64 / ts;
            let dur = index.frame_duration(k).expect("duration") as f64 / ts;
            for t in [pts, pts + dur * 0.5, pts + dur * 0.99] {
                let plan =
                    frameseek_core::plan_time(index, t, &PlanOptions::default()).expect("plan");
                assert_eq!(plan.frame, k, "{}: time {t}", s.name);
            }
        }
    }
}

/// x264 encodes that structure references differently, for [`skip_check_leaves_out_only_unneeded_pictures`].
const X264_STRUCTURES: [(&str, &[&str]); 5] = [
    // P frames refer to the previous P only: the B pyramid's reference pictures can go.
    (
        "veryfast pyramid",
        &[
            "-preset",
            "veryfast",
            "-x264-params",
            "bframes=2:keyint=45:scenecut=0",
        ],
    ),
    // P frames may refer to the pyramid's B pictures (3 references, weighted P).
    (
        "medium 3 refs",
        &[
            "-preset",
            "medium",
            "-x264-params",
            "bframes=3:keyint=45:scenecut=0",
        ],
    ),
    (
        "4 slices",
        &[
            "-preset",
            "fast",
            "-x264-params",
            "slices=4:bframes=3:keyint=45",
        ],
    ),
    (
        "strict pyramid",
        &["-x264-params", "bframes=3:b-pyramid=strict:keyint=45"],
    ),
    (
        "no B frames",
        &["-x264-params", "bframes=0:ref=4:keyint=45"],
    ),
];

#[test]
fn skip_check_leaves_out_only_unneeded_pictures() {
    use frameseek_core::codec::h264::allow_frame_num_gaps;
    use frameseek_core::codec::h264_skip::{SkipCheck, Step};
    let dir = std::env::temp_dir().join(format!("frameseek-skip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut subjects: Vec<Subject> = subjects()
        .into_iter()
        .filter(|s| s.codec.starts_with("avc"))
        .collect();
    for (name, args) in X264_STRUCTURES {
        let path = dir.join(format!("{}.mp4", name.replace(' ', "_")));
        let graph = "testsrc2=size=320x240:rate=30:duration=3,noise=alls=8:allf=t,\
                     geq=lum='if(lt(Y,24),if(mod(floor(N/pow(2,floor(X/20))),2),235,16),p(X,Y))':\
                     cb='p(X,Y)':cr='p(X,Y)'";
        let mut all = vec![
            "-f", "lavfi", "-i", graph, "-c:v", "libx264", "-pix_fmt", "yuv420p",
        ];
        all.extend_from_slice(args);
        all.push(path.to_str().expect("utf-8 path"));
        frameseek_e2e::ffmpeg(&all);
        subjects.push(Subject::new(&path, name));
    }
    let mut left_out = HashMap::new();
    for s in &subjects {
        let index = s.index();
        let gaps = allow_frame_num_gaps(s.description.as_deref().expect("avcC")).expect("SPS");
        let n = index.frame_count();
        for k in (0..n.min(90)).step_by(3).chain([n - 1]) {
            let plan = plan_frame(index, k, &PlanOptions::default()).expect("plan");
            // The browser module leaves B pictures out for an I or P frame.
            let anchor = plan.run.ends_on_anchor(index);
            let bytes = s.sparse(&plan.ranges);
            let samples = s.samples(&bytes, plan.run.first, plan.run.last);
            // B pictures may be left out whatever the frame: a restart is the check's answer
            // when that was wrong, and without skip_b it never restarts.
            let feed = |skip_b: bool| -> Option<Vec<&[u8]>> {
                let mut check = SkipCheck::new(&gaps, skip_b);
                let mut fed = Vec::new();
                for (i, &sample) in samples.iter().enumerate() {
                    let shown = i == 0 || plan.run.first + i == plan.sample;
                    match check.step(sample, shown) {
                        Step::Feed => fed.push(sample),
                        Step::Skip => {}
                        Step::Restart => return None,
                    }
                }
                Some(fed)
            };
            let fed = feed(true).unwrap_or_else(|| {
                let what = if anchor {
                    "restarts"
                } else {
                    "restarts for B frames"
                };
                *left_out.entry((s.name.clone(), what)).or_insert(0) += 1;
                feed(false).expect("no restart without skip_b")
            });
            let refs = samples.iter().filter(|smp| !non_reference(smp)).count();
            let fed_refs = fed.iter().filter(|smp| !non_reference(smp)).count();
            *left_out.entry((s.name.clone(), "references")).or_insert(0) += refs - fed_refs;
            let (decoded, log) = s.decode_samples_logged(&gaps, &fed);
            // The fed stream must be conforming, not only decode right in ffmpeg: a decoder may
            // refuse what ffmpeg logs and decodes on from (Chromium's does). A run that starts
            // at an open GOP's I frame has its own complaints (marking commands naming the
            // previous GOP's frames): leaving pictures out must add none.
            if !log.is_empty() {
                let (_, whole) = s.decode_samples_logged(&gaps, &samples);
                assert_eq!(
                    messages(&log),
                    messages(&whole),
                    "{}: frame {k}: ffmpeg complains of the fed stream",
                    s.name
                );
            }
            s.check(k, &decoded, "with unneeded pictures left out");
        }
    }
    eprintln!("{left_out:?}");
    let count = |name: &str, what: &'static str| left_out.get(&(name.to_string(), what)).copied();
    assert!(
        count("veryfast pyramid", "references") > Some(100),
        "x264 veryfast's pyramid B pictures are left out: {left_out:?}"
    );
    assert_eq!(count("veryfast pyramid", "restarts"), None);
    assert_eq!(count("no B frames", "references"), Some(0));
}

/// ffmpeg's log lines without the `[h264 @ 0x...]` context, whose address changes per run.
fn messages(log: &str) -> Vec<&str> {
    log.lines()
        .map(|l| l.split_once("] ").map_or(l, |(_, m)| m).trim())
        .collect()
}

/// Whether an AVC sample (4-byte lengths) holds only slices with `nal_ref_idc` 0.
fn non_reference(sample: &[u8]) -> bool {
    let mut pos = 0;
    while pos + 4 < sample.len() {
        let len = u32::from_be_bytes(sample[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        let header = sample[pos + 4];
        if matches!(header & 0x1f, 1 | 5) && header & 0x60 != 0 {
            return false;
        }
        pos += 4 + len;
    }
    true
}
