//! Leaving pictures out of a one-frame H.264 decode. Showing one frame takes the pictures it
//! refers to, not every reference picture of its GOP: x264's P frames, for one, name the
//! previous P frame and never the B frames of a pyramid. [`SkipCheck`] reads the slice headers
//! of a decode run (H.264 §7.3.3) and keeps the short-term reference frames as the decoder
//! has them (§8.2.5), where a picture left out is a "non-existing" frame of a `frame_num` gap
//! (§8.2.5.2, which [`super::h264::allow_frame_num_gaps`] makes legal). Once a reference
//! picture is left out, a P slice is fed only if it refers to the same pictures as in the
//! whole stream: its modification commands name every active entry of its list 0 and each is
//! a frame the decoder has, or it has no commands and the first active entries of the initial
//! list were all fed since a picture was last left out. I slices need nothing; B slices are fed
//! only while nothing has been left out. A fed picture's marking commands must find every
//! frame they name and leave at most `max_num_ref_frames` (a left-out picture's own commands
//! do not run, so the decoder may hold other frames than in the whole stream). Otherwise the
//! run must be decoded again without leaving anything out.

use super::bits::{unescape, Bits};
use super::h264::{avcc_parameter_sets, parse_pps, parse_sps, Pps, SliceParams};

/// What to do with one sample of a decode run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Decode it.
    Feed,
    /// Leave it out: no picture that is decoded refers to it.
    Skip,
    /// A picture already left out may be needed: decode the run again from its start without
    /// leaving B pictures out.
    Restart,
}

/// What one slice header says about references (up to `adaptive_ref_pic_marking_mode_flag`).
struct Slice {
    /// `slice_type % 5` (0 P, 1 B, 2 I).
    kind: u32,
    frame_num: u32,
    /// `num_ref_idx_l0_active`.
    active: usize,
    /// The `PicNum`s that list 0's modification commands name, in order.
    named: Vec<i64>,
    /// An IDR picture.
    idr: bool,
    /// `difference_of_pic_nums_minus1` of each memory management operation 1 (unmark a
    /// short-term frame) when the marking is adaptive (`None`: the sliding window).
    unmark: Option<Vec<u32>>,
    /// The SPS it refers to.
    sps: SliceParams,
}

/// Decides, sample by sample through a decode run, which pictures a decoder configured with
/// an [`allow_frame_num_gaps`](super::h264::allow_frame_num_gaps) record may be spared.
/// Pictures that no picture refers to (`nal_ref_idc` 0) are left out whenever they are not
/// shown, whatever the stream; B pictures only with `skip_b` and a stream whose slice headers
/// it reads (frames, no slice groups or redundant slices, no long-term references).
pub struct SkipCheck {
    nal_len: usize,
    sps: Vec<SliceParams>,
    pps: Vec<Pps>,
    skip_b: bool,
    /// Not following the references any more: only non-reference pictures are left out.
    off: bool,
    /// A reference picture has been left out.
    skipped: bool,
    /// The decoder's short-term reference frames: `frame_num`, and when it was fed (1 for
    /// the first reference picture fed, 2 for the next...; 0: left out).
    frames: Vec<(u32, u32)>,
    /// Reference pictures fed so far, and how many when one was last left out.
    fed: u32,
    last_skip: u32,
    /// PrevRefFrameNum, once a reference picture was fed.
    prev: Option<u32>,
}

/// FrameNumWrap of `num` seen from a picture numbered `cur` (§8.2.4.1).
fn wrap(num: u32, cur: u32, s: &SliceParams) -> i64 {
    i64::from(num) - if num > cur { 1 << s.frame_num_bits } else { 0 }
}

impl SkipCheck {
    /// For a run of samples of the track whose `avcC` record is `avcc`.
    pub fn new(avcc: &[u8], skip_b: bool) -> Self {
        let mut check = Self {
            nal_len: usize::from(avcc.get(4).map_or(3, |b| b & 3)) + 1,
            sps: Vec::new(),
            pps: Vec::new(),
            skip_b,
            off: false,
            skipped: false,
            frames: Vec::new(),
            fed: 0,
            last_skip: 0,
            prev: None,
        };
        match avcc_parameter_sets(avcc) {
            Some(sets) => sets.iter().flatten().for_each(|n| check.parameter_set(n)),
            None => check.off = true,
        }
        check
    }

    fn parameter_set(&mut self, nal: &[u8]) {
        let header = nal.first().map_or(0, |h| h & 0x1f);
        if header == 7 {
            match parse_sps(nal) {
                Some(s) => self.sps.push(s.slices),
                None => self.off = true,
            }
        } else if header == 8 {
            match parse_pps(nal) {
                Some(p) => self.pps.push(p),
                None => self.off = true,
            }
        }
    }

    /// The next sample of the run in decode order; `shown` when its frame is wanted (the run's
    /// first sample counts as shown: a decoder starts there).
    pub fn step(&mut self, sample: &[u8], shown: bool) -> Step {
        let mut slices = Vec::new();
        let mut reference = false;
        let mut pos = 0usize;
        let len = self.nal_len;
        while let Some(&header) = sample.get(pos + len) {
            let n = sample[pos..pos + len]
                .iter()
                .fold(0usize, |a, &b| (a << 8) | usize::from(b));
            let start = pos + len;
            pos = start.saturating_add(n).min(sample.len());
            let nal = &sample[start..pos];
            match header & 0x1f {
                1 | 5 => {
                    reference |= header & 0x60 != 0;
                    slices.push(nal);
                }
                7 | 8 => self.parameter_set(nal),
                _ => {}
            }
        }
        if slices.is_empty() {
            return Step::Feed;
        }
        if !reference && !shown {
            return Step::Skip;
        }
        let gaps = self.sps.iter().all(|s| s.gaps_allowed);
        if self.off || (self.skipped && !gaps) {
            return self.stop();
        }
        let mut read = Vec::new();
        for nal in slices {
            match self.slice(nal) {
                Some(s) => read.push(s),
                None => return self.stop(),
            }
        }
        let first = &read[0];
        let (cur, sps) = (first.frame_num, first.sps);
        if self.skip_b && gaps && !shown && reference && read.iter().all(|s| s.kind == 1) {
            self.skipped = true;
            self.last_skip = self.fed;
            return Step::Skip;
        }
        // The frames inferred for a frame_num gap (§8.2.5.2) before this picture.
        let max = 1 << sps.frame_num_bits;
        if let Some(mut prev) = self.prev {
            while cur != prev && cur != (prev + 1) % max {
                prev = (prev + 1) % max;
                self.slide(prev, &sps);
                self.frames.push((prev, 0));
            }
            self.prev = Some(prev);
        }
        // A P slice reads the same pictures as in the whole stream if the modification commands
        // name every active entry and the decoder has each, or if there are no commands and
        // the first active entries of the initial list (the highest FrameNumWrap first) were
        // all fed since a picture was last left out: pictures left out were decoded before
        // those, so they cannot rank above them or have removed them.
        let frames = &self.frames;
        let wrapped = |&(f, _): &(u32, u32)| wrap(f, cur, &sps);
        let same = |s: &Slice| match s.kind {
            _ if !self.skipped => true,
            2 => true,
            0 if s.named.len() >= s.active => s.named[..s.active]
                .iter()
                .all(|&n| frames.iter().any(|f| f.1 > 0 && wrapped(f) == n)),
            0 if s.named.is_empty() => {
                let old = frames
                    .iter()
                    .filter(|f| f.1 <= self.last_skip)
                    .map(wrapped)
                    .max();
                let recent = frames
                    .iter()
                    .filter(|f| f.1 > self.last_skip && Some(wrapped(f)) > old);
                recent.count() >= s.active
            }
            _ => false,
        };
        if !read.iter().all(same) {
            return self.stop();
        }
        if reference {
            if first.idr {
                self.frames.clear();
            }
            // Left-out pictures' own marking commands do not run, so the decoder can hold other
            // frames than in the whole stream. A command naming a frame it does not hold, or
            // more frames than max_num_ref_frames, makes the fed stream non-conforming: some
            // decoders refuse it (FFmpeg's "mmco: unref short failure", an error in Chromium).
            match &first.unmark {
                Some(diffs) => {
                    for &d in diffs {
                        let pic_num = i64::from(cur) - i64::from(d) - 1;
                        let held = self.frames.len();
                        self.frames.retain(|&(f, _)| wrap(f, cur, &sps) != pic_num);
                        if self.frames.len() == held {
                            return self.stop();
                        }
                    }
                }
                None => self.slide(cur, &sps),
            }
            self.fed += 1;
            self.frames.push((cur, self.fed));
            if self.frames.len() > sps.max_refs.max(1) as usize {
                return self.stop();
            }
            self.prev = Some(cur);
        }
        Step::Feed
    }

    /// The sliding window (§8.2.5.3) before a reference frame numbered `cur` is added.
    fn slide(&mut self, cur: u32, sps: &SliceParams) {
        if self.frames.len() >= sps.max_refs.max(1) as usize {
            if let Some(i) =
                (0..self.frames.len()).min_by_key(|&i| wrap(self.frames[i].0, cur, sps))
            {
                self.frames.remove(i);
            }
        }
    }

    /// Stops following references: a restart if a reference picture was left out.
    fn stop(&mut self) -> Step {
        self.off = true;
        if self.skipped {
            Step::Restart
        } else {
            Step::Feed
        }
    }

    /// Reads a slice header up to `adaptive_ref_pic_marking_mode_flag` (§7.3.3); `None` for
    /// what is not followed: field pictures, redundant and SP/SI slices, long-term references.
    fn slice(&self, nal: &[u8]) -> Option<Slice> {
        let header = *nal.first()?;
        let rbsp = unescape(nal.get(1..nal.len().min(1024))?);
        let mut r = Bits {
            data: &rbsp,
            pos: 0,
        };
        r.ue(); // first_mb_in_slice
        let kind = r.ue() % 5;
        let pps_id = r.ue();
        // The latest parameter sets with these ids (a set sent again replaces the last).
        let pps = *self.pps.iter().rev().find(|p| p.id == pps_id)?;
        let sps = *self.sps.iter().rev().find(|s| s.id == pps.sps_id)?;
        if sps.separate_planes {
            r.skip(2); // colour_plane_id
        }
        let frame_num = r.bits(sps.frame_num_bits);
        if !sps.frame_mbs_only && r.bit() == 1 {
            return None; // field_pic_flag
        }
        let idr = header & 0x1f == 5;
        if idr {
            r.ue(); // idr_pic_id
        }
        if sps.poc_type == 0 {
            r.skip(sps.poc_lsb_bits as usize);
        }
        if sps.poc_type == 0 || (sps.poc_type == 1 && !sps.poc_always_zero) {
            if sps.poc_type == 1 {
                r.se(); // delta_pic_order_cnt[0]
            }
            if pps.bottom_field_poc {
                r.se(); // delta_pic_order_cnt_bottom or delta_pic_order_cnt[1]
            }
        }
        if (pps.redundant_pic_cnt && r.ue() != 0) || kind > 2 {
            return None;
        }
        let b = kind == 1;
        if b {
            r.skip(1); // direct_spatial_mv_pred_flag
        }
        let mut active = pps.refs_default;
        if kind < 2 && r.bit() == 1 {
            active[0] = r.ue() + 1;
            if b {
                active[1] = r.ue() + 1;
            }
        }
        // ref_pic_list_modification: list 0's named PicNums (§8.2.4.3.1).
        let lists = [1, 2, 0][kind as usize];
        let mut named = Vec::new();
        let mut pred = i64::from(frame_num);
        let max = 1i64 << sps.frame_num_bits;
        for list in 0..lists {
            if r.bit() == 1 {
                loop {
                    let idc = r.ue();
                    if idc == 3 {
                        break;
                    }
                    if idc > 1 || named.len() > 32 || r.ok().is_none() {
                        return None;
                    }
                    let d = i64::from(r.ue()) + 1;
                    if list == 0 {
                        pred = if idc == 0 { pred - d } else { pred + d }.rem_euclid(max);
                        named.push(if pred > i64::from(frame_num) {
                            pred - max
                        } else {
                            pred
                        });
                    }
                }
            }
        }
        if (pps.weighted_pred && kind == 0) || (pps.weighted_bipred == 1 && b) {
            // pred_weight_table: denominators, then optional weights per reference.
            r.ue();
            let chroma = sps.chroma_array_type != 0;
            if chroma {
                r.ue();
            }
            for &n in &active[..lists] {
                for _ in 0..n.min(32) {
                    for (present, values) in [(true, 2), (chroma, 4)] {
                        if present && r.bit() == 1 {
                            (0..values).for_each(|_| {
                                r.se();
                            });
                        }
                    }
                }
            }
        }
        // dec_ref_pic_marking: an IDR's long_term_reference_flag, or the adaptive operations.
        let mut unmark = None;
        if header & 0x60 != 0 {
            if idr {
                r.skip(1); // no_output_of_prior_pics_flag
            }
            if r.bit() == 1 {
                if idr {
                    return None; // long_term_reference_flag
                }
                let mut diffs = Vec::new();
                loop {
                    match r.ue() {
                        0 => break,
                        1 if diffs.len() < 32 => diffs.push(r.ue()),
                        _ => return None,
                    }
                }
                unmark = Some(diffs);
            }
        }
        r.ok()?;
        Some(Slice {
            kind,
            frame_num,
            active: active[0] as usize,
            named,
            idr,
            unmark,
            sps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::entry::tests::fuzz_slices;

    /// Slice NAL units as x264 writes them (4-byte lengths), from bit fields.
    fn sample(header: u8, fields: &[(u32, u32)]) -> Vec<u8> {
        let mut bits = Vec::new();
        for &(n, v) in fields {
            bits.extend((0..n).rev().map(|i| v >> i & 1 == 1));
        }
        bits.push(true);
        bits.resize(bits.len().div_ceil(8) * 8 + 64, false);
        let mut nal = vec![header];
        nal.extend(
            bits.chunks(8)
                .map(|b| b.iter().fold(0u8, |a, &x| a << 1 | u8::from(x))),
        );
        let mut out = (nal.len() as u32).to_be_bytes().to_vec();
        out.extend(nal);
        out
    }

    #[test]
    fn never_panics() {
        let avcc = crate::codec::entry::tests::hex(crate::codec::h264::tests::AVCC_HIGH_13);
        let gaps = crate::codec::h264::allow_frame_num_gaps(&avcc).expect("rewrites");
        // An IDR slice: first_mb 0 (ue "1"), slice_type 7 (ue "0001000"), pps 0, frame_num,
        // idr_pic_id 0, POC LSBs, then zeros; and every cut and flipped byte of it.
        let idr = sample(0x65, &[(1, 1), (7, 8), (1, 1), (4, 0), (1, 1), (6, 0)]);
        fuzz_slices(&idr, |d| {
            let mut c = SkipCheck::new(&gaps, true);
            let _ = c.step(d, true);
            let _ = c.step(d, false);
        });
        fuzz_slices(&gaps, |d| {
            let _ = SkipCheck::new(d, true).step(&idr, true);
        });
    }
}
