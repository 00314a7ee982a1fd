//! core's H.264 SPS parser (`codec::h264::parse_sps`) against ffprobe on x264 streams that
//! cover the syntax it reads past: high profiles with chroma format and bit depths (4:2:0 and
//! 4:2:2 10-bit, 4:4:4 8 and 10-bit), lossless (transform bypass), field coding, cropping
//! (x264's own and larger crops set by ffmpeg's h264_metadata filter, in every crop unit),
//! POC types 0 and 2, and table and extended VUI aspect ratios. (x264 puts custom scaling
//! matrices in the PPS, not the SPS; the unit tests in core cover SPS scaling lists.)

use frameseek_core::codec::h264::parse_sps;
use std::path::Path;
use std::process::Command;

/// The first SPS NAL unit (header included) of an Annex B stream.
fn first_sps(data: &[u8]) -> Option<&[u8]> {
    let starts: Vec<usize> = (0..data.len().saturating_sub(3))
        .filter(|&i| data[i..i + 3] == [0, 0, 1])
        .map(|i| i + 3)
        .collect();
    starts.iter().enumerate().find_map(|(n, &s)| {
        let end = starts.get(n + 1).map_or(data.len(), |&e| e - 3);
        let nal = &data[s..end];
        // Trailing zero bytes belong to the next start code (00 00 00 01).
        let len = nal.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        (nal.first().is_some_and(|h| h & 0x1f == 7)).then(|| &nal[..len])
    })
}

fn ffprobe(path: &Path) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_streams", "-of", "json"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ffprobe JSON");
    json["streams"][0].clone()
}

/// (pix_fmt, size, setsar, extra ffmpeg options, profile_idc, chroma_format_idc, bit depth - 8)
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    u8,
    u8,
    u8,
);

#[test]
fn sps_matches_ffprobe() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sps_vs_ffprobe");
    std::fs::create_dir_all(&dir).unwrap();
    let cases: &[Case] = &[
        ("yuv420p", "322x242", "4/3", &[], 100, 1, 0),
        ("yuv420p", "320x240", "5/7", &[], 100, 1, 0),
        ("yuv420p", "320x240", "1/1", &["-profile:v", "baseline"], 66, 1, 0),
        ("yuv420p", "320x240", "64/33", &["-profile:v", "main", "-bf", "2"], 77, 1, 0),
        ("yuv420p10le", "326x180", "1/1", &[], 110, 1, 2),
        (
            "yuv422p10le",
            "320x240",
            "16/11",
            &["-x264-params", "interlaced=1"],
            122,
            2,
            2,
        ),
        (
            "yuv422p",
            "320x240",
            "1/1",
            &[
                "-x264-params",
                "interlaced=1",
                "-bsf:v",
                "h264_metadata=crop_left=2:crop_right=4:crop_top=4:crop_bottom=8:sample_aspect_ratio=7/5",
            ],
            122,
            2,
            0,
        ),
        (
            "yuv420p",
            "320x240",
            "1/1",
            &[
                "-x264-params",
                "interlaced=1",
                "-bsf:v",
                "h264_metadata=crop_left=6:crop_top=12:crop_bottom=4",
            ],
            100,
            1,
            0,
        ),
        (
            "yuv444p",
            "320x240",
            "40/33",
            &["-bsf:v", "h264_metadata=crop_left=3:crop_right=1:crop_top=5:crop_bottom=1"],
            244,
            3,
            0,
        ),
        ("yuv444p", "176x144", "1/1", &["-qp", "0"], 244, 3, 0),
        (
            "yuv444p10le",
            "200x120",
            "255/254",
            &["-x264-params", "interlaced=1"],
            244,
            3,
            2,
        ),
    ];
    for (i, (pix_fmt, size, sar, extra, profile, chroma, depth)) in cases.iter().enumerate() {
        let path = dir.join(format!("case{i}.h264"));
        let status = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg(format!("testsrc2=s={size}:d=0.2:r=10"))
            .args(["-vf", &format!("setsar={sar}"), "-pix_fmt", pix_fmt])
            .args(["-c:v", "libx264"])
            .args(*extra)
            .args(["-f", "h264"])
            .arg(&path)
            .status()
            .expect("ffmpeg runs");
        assert!(status.success(), "case {i}: ffmpeg failed");
        let data = std::fs::read(&path).unwrap();
        let nal = first_sps(&data).unwrap_or_else(|| panic!("case {i}: no SPS"));
        let sps = parse_sps(nal).unwrap_or_else(|| panic!("case {i}: SPS does not parse"));
        let probe = ffprobe(&path);
        let ctx = format!("case {i} ({pix_fmt} {size} sar {sar} {extra:?})");
        assert_eq!(sps.width, probe["width"].as_u64().unwrap() as u32, "{ctx}");
        assert_eq!(
            sps.height,
            probe["height"].as_u64().unwrap() as u32,
            "{ctx}"
        );
        let want_sar = probe["sample_aspect_ratio"]
            .as_str()
            .filter(|s| *s != "0:1")
            .map(|s| {
                let (w, h) = s.split_once(':').unwrap();
                (w.parse().unwrap(), h.parse().unwrap())
            });
        assert_eq!(sps.sar, want_sar, "{ctx}");
        assert_eq!(
            (
                sps.profile_idc,
                sps.chroma_format_idc,
                sps.bit_depth_luma_minus8,
                sps.bit_depth_chroma_minus8
            ),
            (*profile, *chroma, *depth, *depth),
            "{ctx}"
        );
    }
}
