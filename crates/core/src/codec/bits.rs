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

/// A big-endian bit reader over an RBSP; every read is `None` past the end.
pub(crate) struct Bits<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl Bits<'_> {
    pub fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(b))
    }

    /// `n` bits (at most 32) as an unsigned number.
    pub fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0u32, |acc, _| Some((acc << 1) | self.bit()?))
    }

    pub fn skip(&mut self, n: usize) -> Option<()> {
        self.pos = self.pos.checked_add(n)?;
        (self.pos <= self.data.len() * 8).then_some(())
    }

    /// Exp-Golomb ue(v), up to 31 leading zeros.
    pub fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        Some(((1u64 << zeros) - 1 + u64::from(rest)).min(u64::from(u32::MAX)) as u32)
    }

    /// Exp-Golomb se(v) (only its range matters here: the value is clamped to `i32`).
    pub fn se(&mut self) -> Option<i32> {
        let k = i64::from(self.ue()?);
        let v = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        Some(v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
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
        let ue: Vec<u32> = (0..5).map(|_| r.ue().unwrap()).collect();
        assert_eq!(ue, [0, 1, 2, 3, 4]);
        let mut r = Bits {
            data: &data,
            pos: 0,
        };
        let se: Vec<i32> = (0..5).map(|_| r.se().unwrap()).collect();
        assert_eq!(se, [0, 1, -1, 2, -2]);
        assert_eq!(
            Bits {
                data: &[0, 0, 0, 0, 0],
                pos: 0
            }
            .ue(),
            None
        );
        assert_eq!(unescape(&[0, 0, 3, 1, 0, 0, 3]), vec![0, 0, 1, 0, 0]);
    }
}
