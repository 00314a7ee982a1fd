//! H.264/AVC: the `avcC` AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1) gives the
//! `avc1.PPCCLL` codec string and the WebCodecs `description`; the first SPS's VUI gives the
//! sample aspect ratio when the container has no `pasp`.

use super::bits::{unescape, Bits};
use crate::error::{Error, Result};
use crate::mp4::cursor::Cursor;
use crate::text;
use crate::text::hex;

/// What the `avcC` record says about a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfig {
    /// `PPCCLL`: profile, constraint flags and level as lowercase hex (the codec string without
    /// the `avc1.` prefix).
    pub profile_level: String,
    /// Sample aspect ratio from the first SPS's VUI, if it parses and signals one.
    pub sar: Option<(u32, u32)>,
}

/// Parses an `avcC` payload at file offset `base`. The record itself must be well formed (every
/// parameter set inside the payload); an SPS that [`parse_sps`] cannot read only loses the SAR.
pub fn parse_avcc(data: &[u8], base: u64) -> Result<AvcConfig> {
    let mut c = Cursor::new(data, base, "avcC");
    let version_at = c.offset();
    let version = c.u8();
    c.check()?;
    if version != 1 {
        return Err(Error::invalid(
            "avcC",
            text!["configurationVersion ", version],
            version_at,
        ));
    }
    let (profile, compat, level) = (c.u8(), c.u8(), c.u8());
    c.skip(1); // reserved(6) lengthSizeMinusOne(2)
    let num_sps = c.u8() & 0x1f;
    let mut first_sps = None;
    for _ in 0..num_sps {
        let len = usize::from(c.u16());
        let nal = c.bytes(len)?;
        first_sps.get_or_insert(nal);
    }
    let num_pps = c.u8();
    for _ in 0..num_pps {
        let len = usize::from(c.u16());
        c.skip(len);
    }
    c.check()?;
    // Trailing fields (chroma format, bit depths, SPS extensions for high profiles) are optional
    // and not needed here; the decoder gets the whole record as `description`.
    Ok(AvcConfig {
        profile_level: text![hex(profile, 2), hex(compat, 2), hex(level, 2)],
        sar: first_sps.and_then(sps_sar),
    })
}

/// The VUI sample aspect ratio of an SPS NAL unit (with its 1-byte NAL header), if any.
fn sps_sar(nal: &[u8]) -> Option<(u32, u32)> {
    parse_sps(nal)?.sar
}

/// What frameseek reads from an H.264 sequence parameter set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sps {
    /// `profile_idc`.
    pub profile_idc: u8,
    /// `chroma_format_idc` (1, 4:2:0, unless a high profile says otherwise).
    pub chroma_format_idc: u8,
    /// `bit_depth_luma_minus8`.
    pub bit_depth_luma_minus8: u8,
    /// `bit_depth_chroma_minus8`.
    pub bit_depth_chroma_minus8: u8,
    /// Picture width after the cropping rectangle.
    pub width: u32,
    /// Picture height after the cropping rectangle.
    pub height: u32,
    /// VUI sample aspect ratio, when signalled and specified (not 0 or reserved).
    pub sar: Option<(u32, u32)>,
    /// What slice headers and reference marking need from the SPS.
    pub slices: SliceParams,
}

/// The SPS fields that slice headers and reference picture marking depend on (H.264 §7.4.2.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SliceParams {
    /// `seq_parameter_set_id`.
    pub id: u32,
    /// `log2_max_frame_num_minus4` + 4: `frame_num` bits.
    pub frame_num_bits: u32,
    /// `pic_order_cnt_type`.
    pub poc_type: u32,
    /// `log2_max_pic_order_cnt_lsb_minus4` + 4 (POC type 0).
    pub poc_lsb_bits: u32,
    /// `delta_pic_order_always_zero_flag` (POC type 1).
    pub poc_always_zero: bool,
    /// `max_num_ref_frames`.
    pub max_refs: u32,
    /// `frame_mbs_only_flag`: no field pictures.
    pub frame_mbs_only: bool,
    /// ChromaArrayType: 0 for monochrome or separate colour planes.
    pub chroma_array_type: u32,
    /// `separate_colour_plane_flag`.
    pub separate_planes: bool,
    /// `gaps_in_frame_num_value_allowed_flag`.
    pub gaps_allowed: bool,
    /// Where that flag is, in bits from the start of the RBSP after the NAL header byte.
    pub gaps_bit: usize,
}

/// The RBSP of a NAL unit of `nal_unit_type` `kind`: header byte dropped, emulation
/// prevention removed. `None` for another type.
fn rbsp_of(nal: &[u8], kind: u8) -> Option<Vec<u8>> {
    (nal.first()? & 0x1f == kind).then(|| unescape(&nal[1..]))
}

/// `aspect_ratio_idc` 1 to 16 (H.264 Table E-1).
const SAR_TABLE: [(u8, u8); 16] = [
    (1, 1),
    (12, 11),
    (10, 11),
    (16, 11),
    (40, 33),
    (24, 11),
    (20, 11),
    (32, 11),
    (80, 33),
    (18, 11),
    (15, 11),
    (64, 33),
    (160, 99),
    (4, 3),
    (3, 2),
    (2, 1),
];

/// Parses an SPS NAL unit (1-byte NAL header included) up to the VUI's aspect ratio
/// (H.264 §7.3.2.1.1 and §E.1.1): every profile, with scaling lists, 4:4:4 and separate
/// colour planes, field coding and cropping. `None` when it is not an SPS or is malformed.
pub fn parse_sps(nal: &[u8]) -> Option<Sps> {
    let rbsp = rbsp_of(nal, 7)?;
    let mut r = Bits {
        data: &rbsp,
        pos: 0,
    };
    let profile_idc = r.bits(8) as u8;
    r.skip(16); // constraint_set flags, level_idc
    let small = |v: u32, max: u32| (v <= max).then_some(v);
    let id = small(r.ue(), 31)?; // seq_parameter_set_id
    let (mut chroma_format_idc, mut separate_planes, mut depth_luma, mut depth_chroma) =
        (1, false, 0, 0);
    if matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        chroma_format_idc = small(r.ue(), 3)?;
        if chroma_format_idc == 3 {
            separate_planes = r.bit() == 1;
        }
        depth_luma = small(r.ue(), 6)?;
        depth_chroma = small(r.ue(), 6)?;
        r.skip(1); // qpprime_y_zero_transform_bypass_flag
        if r.bit() == 1 {
            // seq_scaling_matrix_present_flag: read past the lists (§7.3.2.1.1.1).
            let lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.bit() == 1 {
                    let size = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i32, 8i32);
                    for _ in 0..size {
                        if next != 0 {
                            let delta = r.se();
                            if !(-128..=127).contains(&delta) {
                                return None;
                            }
                            next = (last + delta + 256) % 256;
                        }
                        if next != 0 {
                            last = next;
                        }
                    }
                }
            }
        }
    }
    let frame_num_bits = small(r.ue(), 12)? + 4; // log2_max_frame_num_minus4
    let (poc_type, mut poc_lsb_bits, mut poc_always_zero) = (r.ue(), 0, false);
    match poc_type {
        0 => {
            poc_lsb_bits = small(r.ue(), 12)? + 4; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            poc_always_zero = r.bit() == 1; // delta_pic_order_always_zero_flag
            r.se(); // offset_for_non_ref_pic
            r.se(); // offset_for_top_to_bottom_field
            for _ in 0..small(r.ue(), 255)? {
                r.se(); // offset_for_ref_frame
            }
        }
        2 => {}
        _ => return None,
    }
    let max_refs = small(r.ue(), 16)?; // max_num_ref_frames
    let gaps_bit = r.pos;
    let gaps_allowed = r.bit() == 1; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = u64::from(r.ue()) + 1;
    let height_units = u64::from(r.ue()) + 1;
    let frame_mbs_only = r.bit() == 1;
    if !frame_mbs_only {
        r.skip(1); // mb_adaptive_frame_field_flag
    }
    r.skip(1); // direct_8x8_inference_flag
    let mut crop = [0u64; 4];
    if r.bit() == 1 {
        for c in &mut crop {
            *c = u64::from(r.ue());
        }
    }
    // CropUnitX/CropUnitY (§7.4.2.1.1): ChromaArrayType 0 is monochrome or separate planes.
    let fields = if frame_mbs_only { 1 } else { 2 };
    let (unit_x, unit_y) = match (chroma_format_idc, separate_planes) {
        (1, false) => (2, 2 * fields),
        (2, false) => (2, fields),
        _ => (1, fields),
    };
    let width = (width_mbs * 16).checked_sub(unit_x * (crop[0] + crop[1]))?;
    let height = (height_units * 16 * fields).checked_sub(unit_y * (crop[2] + crop[3]))?;
    let mut sar = None;
    if r.bit() == 1 && r.bit() == 1 {
        // vui_parameters_present_flag, aspect_ratio_info_present_flag
        sar = match r.bits(8) {
            255 => Some((r.bits(16), r.bits(16))).filter(|&(w, h)| w > 0 && h > 0),
            idc @ 1..=16 => {
                let (w, h) = SAR_TABLE[idc as usize - 1];
                Some((u32::from(w), u32::from(h)))
            }
            _ => None,
        };
    }
    r.ok()?;
    Some(Sps {
        profile_idc,
        chroma_format_idc: chroma_format_idc as u8,
        bit_depth_luma_minus8: depth_luma as u8,
        bit_depth_chroma_minus8: depth_chroma as u8,
        width: u32::try_from(width).ok()?,
        height: u32::try_from(height).ok()?,
        sar,
        slices: SliceParams {
            id,
            frame_num_bits,
            poc_type,
            poc_lsb_bits,
            poc_always_zero,
            max_refs,
            frame_mbs_only,
            chroma_array_type: if separate_planes {
                0
            } else {
                chroma_format_idc
            },
            separate_planes,
            gaps_allowed,
            gaps_bit,
        },
    })
}

/// What slice headers depend on in a picture parameter set (H.264 §7.3.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pps {
    /// `pic_parameter_set_id`.
    pub id: u32,
    /// `seq_parameter_set_id`.
    pub sps_id: u32,
    /// `bottom_field_pic_order_in_frame_present_flag`.
    pub bottom_field_poc: bool,
    /// `num_ref_idx_l0_default_active_minus1` + 1 and the same for list 1.
    pub refs_default: [u32; 2],
    /// `weighted_pred_flag`.
    pub weighted_pred: bool,
    /// `weighted_bipred_idc`.
    pub weighted_bipred: u32,
    /// `redundant_pic_cnt_present_flag`.
    pub redundant_pic_cnt: bool,
}

/// Parses a PPS NAL unit (NAL header included). `None` when it is not a PPS, is malformed, or
/// uses slice groups (FMO, Baseline's extended tools, whose parameters are not read).
pub fn parse_pps(nal: &[u8]) -> Option<Pps> {
    let rbsp = rbsp_of(nal, 8)?;
    let mut r = Bits {
        data: &rbsp,
        pos: 0,
    };
    let (id, sps_id) = (r.ue(), r.ue());
    r.skip(1); // entropy_coding_mode_flag
    let bottom_field_poc = r.bit() == 1;
    if r.ue() != 0 {
        return None; // num_slice_groups_minus1
    }
    let refs_default = [r.ue() + 1, r.ue() + 1];
    let weighted_pred = r.bit() == 1;
    let weighted_bipred = r.bits(2);
    r.se(); // pic_init_qp_minus26
    r.se(); // pic_init_qs_minus26
    r.se(); // chroma_qp_index_offset
    r.skip(2); // deblocking_filter_control_present_flag, constrained_intra_pred_flag
    let redundant_pic_cnt = r.bit() == 1;
    r.ok()?;
    (id < 256 && sps_id < 32 && refs_default[0] <= 32 && refs_default[1] <= 32).then_some(Pps {
        id,
        sps_id,
        bottom_field_poc,
        refs_default,
        weighted_pred,
        weighted_bipred,
        redundant_pic_cnt,
    })
}

/// The SPS and PPS NAL units of an `avcC` record, `None` if it is cut short.
pub fn avcc_parameter_sets(avcc: &[u8]) -> Option<[Vec<&[u8]>; 2]> {
    let mut sets = [Vec::new(), Vec::new()];
    let mut pos = 5;
    for (list, mask) in sets.iter_mut().zip([0x1f, 0xff]) {
        let n = avcc.get(pos)? & mask;
        pos += 1;
        for _ in 0..n {
            let len = usize::from(u16::from_be_bytes([*avcc.get(pos)?, *avcc.get(pos + 1)?]));
            list.push(avcc.get(pos + 2..pos + 2 + len)?);
            pos += 2 + len;
        }
    }
    Some(sets)
}

/// The `avcC` record with `gaps_in_frame_num_value_allowed_flag` set in every SPS, so that a
/// decoder fed a run with unreferenced pictures left out treats the `frame_num` gaps as
/// intended (§8.2.5.2) rather than as losses. Decoding is otherwise unchanged: the flag only
/// matters where `frame_num` skips. The bit is set in place; `None` if an SPS does not parse
/// or the flag's byte is zero (setting a bit there could change which bytes are emulation
/// prevention).
pub fn allow_frame_num_gaps(avcc: &[u8]) -> Option<Vec<u8>> {
    let mut out = avcc.to_vec();
    let [sps, _] = avcc_parameter_sets(avcc)?;
    for nal in sps {
        let bit = parse_sps(nal)?.slices.gaps_bit;
        // The NAL byte holding RBSP byte bit / 8: after the header, emulation prevention
        // bytes (00 00 03) skipped.
        let (mut rbsp, mut zeros) = (0, 0);
        let mut at = None;
        for (i, &b) in nal.iter().enumerate().skip(1) {
            if zeros >= 2 && b == 3 {
                zeros = 0;
                continue;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            if rbsp == bit / 8 {
                at = Some(i);
                break;
            }
            rbsp += 1;
        }
        let i = at.filter(|&i| nal[i] != 0)?;
        // `nal` borrows from `avcc`: its offset there.
        let offset = nal.as_ptr() as usize - avcc.as_ptr() as usize + i;
        *out.get_mut(offset)? |= 0x80 >> (bit % 8);
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codec::entry::tests::{fuzz_slices, hex};

    /// x264 high profile level 1.3, 320x240 (`ffprobe`: profile High, level 13).
    pub const AVCC_HIGH_13: &str = "0164000dffe100196764000dacd94141fb011000000300100000030320f142996001000668ebe3cb22c0fdf8f800";
    /// The same encode with `-x264-params sar=4/3`: VUI aspect_ratio_idc 14 (4:3).
    pub const AVCC_VUI_4_3: &str = "0164000dffe100196764000dacd94141fb0e1000000300100000030320f142996001000668ebe3cb22c0fdf8f800";
    /// x264 constrained baseline level 1.3 (`ffprobe`: Constrained Baseline, level 13).
    pub const AVCC_CBP_13: &str =
        "0142c00dffe100186742c00dd90141fb0e1000000300100000030320f142a48001000568cb83cb20";

    #[test]
    fn codec_strings_from_x264() {
        let a = parse_avcc(&hex(AVCC_HIGH_13), 0).unwrap();
        assert_eq!(a.profile_level, "64000d");
        assert_eq!(a.sar, Some((1, 1)));
        let b = parse_avcc(&hex(AVCC_CBP_13), 0).unwrap();
        assert_eq!(b.profile_level, "42c00d");
        assert_eq!(b.sar, Some((4, 3)));
        assert_eq!(parse_avcc(&hex(AVCC_VUI_4_3), 0).unwrap().sar, Some((4, 3)));
    }

    #[test]
    fn frame_num_gaps_allowed_in_place() {
        let avcc = hex(AVCC_HIGH_13);
        let gaps = allow_frame_num_gaps(&avcc).unwrap();
        assert_eq!(gaps.len(), avcc.len());
        assert_eq!(gaps.iter().zip(&avcc).filter(|(a, b)| a != b).count(), 1);
        let [before, _] = avcc_parameter_sets(&avcc).unwrap();
        let [after, pps] = avcc_parameter_sets(&gaps).unwrap();
        let (b, a) = (parse_sps(before[0]).unwrap(), parse_sps(after[0]).unwrap());
        assert!(!b.slices.gaps_allowed && a.slices.gaps_allowed);
        assert_eq!((a.width, a.height, a.sar), (b.width, b.height, b.sar));
        assert_eq!(parse_pps(pps[0]).unwrap().refs_default, [3, 1]); // x264 medium: 3 references
        assert_eq!(allow_frame_num_gaps(&avcc[..20]), None);
    }

    #[test]
    fn bad_records_are_errors_bad_sps_is_not() {
        let mut data = hex(AVCC_HIGH_13);
        data[0] = 0;
        assert!(parse_avcc(&data, 0).is_err());
        let mut data = hex(AVCC_HIGH_13);
        data[9] = 0xff; // garbage inside the SPS: record still valid, SAR unknown
        assert!(parse_avcc(&data, 0).is_ok());
        let err = parse_avcc(&hex(AVCC_HIGH_13)[..20], 500).unwrap_err();
        assert_eq!(err.offset, 508);
    }

    #[test]
    fn never_panics() {
        fuzz_slices(&hex(AVCC_HIGH_13), |d| {
            let _ = parse_avcc(d, 0);
        });
    }

    /// Writes SPS syntax elements (H.264 §7.3.2.1.1) for hand-built parameter sets.
    #[derive(Default)]
    struct Writer {
        bits: Vec<bool>,
    }

    impl Writer {
        fn u(&mut self, n: u32, v: u32) -> &mut Self {
            for i in (0..n).rev() {
                self.bits.push(v >> i & 1 == 1);
            }
            self
        }
        fn ue(&mut self, v: u32) -> &mut Self {
            let x = u64::from(v) + 1;
            let len = 64 - x.leading_zeros();
            self.u(len - 1, 0);
            for i in (0..len).rev() {
                self.bits.push(x >> i & 1 == 1);
            }
            self
        }
        fn se(&mut self, v: i32) -> &mut Self {
            self.ue(if v > 0 {
                2 * v as u32 - 1
            } else {
                (-2 * v) as u32
            })
        }
        /// The NAL unit: header, RBSP with stop bit, emulation prevention.
        fn nal(&mut self) -> Vec<u8> {
            self.bits.push(true);
            while self.bits.len() % 8 != 0 {
                self.bits.push(false);
            }
            let mut out = vec![0x67];
            let mut zeros = 0;
            for byte in self.bits.chunks(8) {
                let b = byte.iter().fold(0u8, |a, &bit| a << 1 | u8::from(bit));
                if zeros >= 2 && b <= 3 {
                    out.push(3);
                    zeros = 0;
                }
                zeros = if b == 0 { zeros + 1 } else { 0 };
                out.push(b);
            }
            out
        }
    }

    /// A high-profile SPS: `chroma` format, separate planes, scaling lists as
    /// `(present, deltas)`, POC type `poc`, size in macroblocks/map units, field coding,
    /// crop `[l, r, t, b]` and a VUI aspect ratio idc (with extended width/height).
    #[allow(clippy::too_many_arguments)]
    fn high_sps(
        chroma: u32,
        separate: bool,
        lists: &[Option<Vec<i32>>],
        poc: u32,
        (w, h): (u32, u32),
        frames_only: bool,
        crop: Option<[u32; 4]>,
        aspect: Option<(u32, u32, u32)>,
    ) -> Vec<u8> {
        let mut b = Writer::default();
        b.u(8, 244).u(8, 0).u(8, 40).ue(0).ue(chroma);
        if chroma == 3 {
            b.u(1, u32::from(separate));
        }
        b.ue(2).ue(2).u(1, 0).u(1, u32::from(!lists.is_empty()));
        for l in lists {
            match l {
                None => {
                    b.u(1, 0);
                }
                Some(deltas) => {
                    b.u(1, 1);
                    for &d in deltas {
                        b.se(d);
                    }
                }
            }
        }
        b.ue(0).ue(poc);
        match poc {
            0 => {
                b.ue(2);
            }
            1 => {
                b.u(1, 0).se(-2).se(3).ue(3).se(1).se(-5).se(200);
            }
            _ => {}
        }
        b.ue(4)
            .u(1, 0)
            .ue(w - 1)
            .ue(h - 1)
            .u(1, u32::from(frames_only));
        if !frames_only {
            b.u(1, 1);
        }
        b.u(1, 1);
        match crop {
            Some(c) => {
                b.u(1, 1);
                for v in c {
                    b.ue(v);
                }
            }
            None => {
                b.u(1, 0);
            }
        }
        match aspect {
            Some((idc, sw, sh)) => {
                b.u(1, 1).u(1, 1).u(8, idc);
                if idc == 255 {
                    b.u(16, sw).u(16, sh);
                }
                // The rest of the VUI is not read.
                b.u(1, 0)
                    .u(1, 0)
                    .u(1, 0)
                    .u(1, 0)
                    .u(1, 0)
                    .u(1, 0)
                    .u(1, 0)
                    .u(1, 0);
            }
            None => {
                b.u(1, 0);
            }
        }
        b.nal()
    }

    /// A full list of `n` deltas (varying, so that next stays non-zero) and the
    /// "use default" form (a first delta that makes nextScale 0).
    fn full(n: usize) -> Option<Vec<i32>> {
        Some((0..n).map(|j| if j % 2 == 0 { 5 } else { -3 }).collect())
    }
    fn use_default() -> Option<Vec<i32>> {
        Some(vec![-8])
    }

    #[test]
    fn sps_syntax_coverage() {
        // 4:2:0 with all 8 scaling lists (full 4x4 and 8x8 lists, defaults, absent ones),
        // POC type 1, frame cropping and a table SAR.
        let lists = vec![
            full(16),
            None,
            use_default(),
            full(16),
            None,
            full(16),
            full(64),
            use_default(),
        ];
        let nal = high_sps(
            1,
            false,
            &lists,
            1,
            (20, 15),
            true,
            Some([1, 2, 3, 4]),
            Some((2, 0, 0)),
        );
        let s = parse_sps(&nal).unwrap();
        assert_eq!(
            (s.profile_idc, s.chroma_format_idc, s.bit_depth_luma_minus8),
            (244, 1, 2)
        );
        assert_eq!((s.width, s.height), (320 - 2 * 3, 240 - 2 * 7));
        assert_eq!(s.sar, Some((12, 11)));

        // 4:4:4 has 12 lists; separate colour planes crop in luma samples (ChromaArrayType 0).
        let lists: Vec<_> = (0..12)
            .map(|i| if i < 6 { full(16) } else { full(64) })
            .collect();
        let nal = high_sps(
            3,
            true,
            &lists,
            0,
            (20, 15),
            true,
            Some([1, 2, 3, 4]),
            Some((255, 7, 5)),
        );
        let s = parse_sps(&nal).unwrap();
        assert_eq!((s.chroma_format_idc, s.width, s.height), (3, 317, 233));
        assert_eq!(s.sar, Some((7, 5)));
        // ... and with 8 of them the rest of the SPS is misread.
        let nal = high_sps(
            3,
            true,
            &lists[..8],
            0,
            (20, 15),
            true,
            None,
            Some((1, 0, 0)),
        );
        assert_ne!(
            parse_sps(&nal).map(|s| (s.width, s.height, s.sar)),
            Some((320, 240, Some((1, 1))))
        );

        // Monochrome fields: crop unit 1 across, 2 down; POC type 2.
        let nal = high_sps(
            0,
            false,
            &[],
            2,
            (20, 8),
            false,
            Some([1, 1, 1, 1]),
            Some((14, 0, 0)),
        );
        let s = parse_sps(&nal).unwrap();
        assert_eq!((s.chroma_format_idc, s.width, s.height), (0, 318, 256 - 4));
        assert_eq!(s.sar, Some((4, 3)));

        // 4:2:2 fields: crop unit 2 across, 2 down.
        let nal = high_sps(2, false, &[], 0, (20, 8), false, Some([1, 0, 0, 2]), None);
        let s = parse_sps(&nal).unwrap();
        assert_eq!((s.width, s.height, s.sar), (318, 252, None));

        // Unspecified, reserved and zero extended ratios are no ratio.
        for aspect in [(0, 0, 0), (17, 0, 0), (254, 0, 0), (255, 0, 5), (255, 4, 0)] {
            let nal = high_sps(1, false, &[], 0, (20, 15), true, None, Some(aspect));
            assert_eq!(parse_sps(&nal).unwrap().sar, None, "{aspect:?}");
        }
    }

    #[test]
    fn bad_sps_is_none() {
        let mut lists = vec![None; 8];
        lists[1] = full(16);
        let good = high_sps(1, false, &lists, 0, (20, 15), true, None, Some((1, 0, 0)));
        assert!(parse_sps(&good).is_some());
        // Not an SPS, cut short, a crop larger than the picture, an out-of-range delta.
        let mut pps = good.clone();
        pps[0] = 0x68;
        assert_eq!(parse_sps(&pps), None);
        assert_eq!(parse_sps(&good[..6]), None);
        let big_crop = high_sps(1, false, &[], 0, (2, 2), true, Some([9, 9, 0, 0]), None);
        assert_eq!(parse_sps(&big_crop), None);
        lists[1] = Some(vec![200]);
        let bad_delta = high_sps(1, false, &lists, 0, (20, 15), true, None, None);
        assert_eq!(parse_sps(&bad_delta), None);
        fuzz_slices(&good, |d| {
            let _ = parse_sps(d);
        });
    }
}
