//! Reading H.264/HEVC parameter sets: removing emulation prevention bytes (NAL unit → RBSP)
//! and a big-endian bit reader with Exp-Golomb codes (H.264 §7.2, §9.1).

/// Removes emulation prevention bytes (`00 00 03` → `00 00`).
pub fn unescape(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// A big-endian bit reader over an RBSP. Reads past the end give zero bits and are remembered:
/// a parser reads its fields, then asks [`Bits::ok`] once (a `?` per field cost the browser
/// module ~1 KB).
pub(crate) struct Bits<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl Bits<'_> {
    /// `Some` if no read went past the end (or hit a malformed code).
    pub fn ok(&self) -> Option<()> {
        (self.pos <= self.data.len().saturating_mul(8)).then_some(())
    }

    pub fn bit(&mut self) -> u32 {
        let b = self
            .data
            .get(self.pos / 8)
            .map_or(0, |byte| (byte >> (7 - self.pos % 8)) & 1);
        self.pos = self.pos.saturating_add(1);
        u32::from(b)
    }

    /// `n` bits (at most 32) as an unsigned number.
    pub fn bits(&mut self, n: u32) -> u32 {
        (0..n).fold(0u32, |acc, _| (acc << 1) | self.bit())
    }

    pub fn skip(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n);
    }

    /// Exp-Golomb ue(v), up to 31 leading zeros (more make the reader fail).
    pub fn ue(&mut self) -> u32 {
        let mut zeros = 0;
        while self.bit() == 0 {
            zeros += 1;
            if zeros > 31 {
                self.pos = usize::MAX;
                return 0;
            }
        }
        let rest = self.bits(zeros);
        ((1u64 << zeros) - 1 + u64::from(rest)).min(u64::from(u32::MAX)) as u32
    }

    /// Exp-Golomb se(v) (only its range matters here: the value is clamped to `i32`).
    pub fn se(&mut self) -> i32 {
        let k = i64::from(self.ue());
        let v = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb() {
        // 1 | 010 | 011 | 00100 | 00101: ue 0, 1, 2, 3, 4
        let data = [0b1010_0110, 0b0100_0010, 0b1000_0000];
        let mut r = Bits {
            data: &data,
            pos: 0,
        };
        let ue: Vec<u32> = (0..5).map(|_| r.ue()).collect();
        assert_eq!(ue, [0, 1, 2, 3, 4]);
        assert!(r.ok().is_some());
        let mut r = Bits {
            data: &data,
            pos: 0,
        };
        let se: Vec<i32> = (0..5).map(|_| r.se()).collect();
        assert_eq!(se, [0, 1, -1, 2, -2]);
        r.bits(8);
        assert!(r.ok().is_none()); // 25 bits read of 24
        let mut r = Bits {
            data: &[0, 0, 0, 0, 0],
            pos: 0,
        };
        assert_eq!((r.ue(), r.ok()), (0, None));
        assert_eq!(unescape(&[0, 0, 3, 1, 0, 0, 3]), vec![0, 0, 1, 0, 0]);
    }
}
