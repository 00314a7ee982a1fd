//! Converting integer times between timescales without 128-bit arithmetic (whose division
//! routines are ~1 KB of the browser module): whole units and the remainder apart, so that
//! nothing overflows before the result does.

/// `v * to / from`, rounded down and saturating at `u64::MAX`; 0 when `from` is 0.
pub fn rescale_u64(v: u64, to: u32, from: u32) -> u64 {
    if from == 0 {
        return 0;
    }
    let (to, from) = (u64::from(to), u64::from(from));
    // v % from < 2^32 and to < 2^32: the remainder's product fits.
    (v / from)
        .saturating_mul(to)
        .saturating_add(v % from * to / from)
}

/// `ticks * to / from`, rounded toward zero and saturating at `i64`'s range; 0 when `from`
/// is 0. (`rescale(ticks, 1_000_000, timescale)` is a time in microseconds.)
pub fn rescale(ticks: i64, to: u32, from: u32) -> i64 {
    let v = rescale_u64(ticks.unsigned_abs(), to, from);
    if ticks < 0 {
        i64::try_from(v).map_or(i64::MIN, |v| -v)
    } else {
        i64::try_from(v).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_128_bit_arithmetic() {
        let exact = |t: i64, to: u32, from: u32| -> i64 {
            (i128::from(t) * i128::from(to) / i128::from(from))
                .clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
        };
        let ticks = [
            0,
            1,
            -1,
            999,
            -1001,
            90_000,
            123_456_789_012,
            -987_654_321_098,
            i64::MAX,
            i64::MIN,
            i64::MAX / 3,
            i64::MIN / 7,
        ];
        for t in ticks {
            for (to, from) in [
                (1_000_000, 90_000),
                (1_000_000, 1),
                (1, 1_000_000),
                (48_000, 44_100),
                (u32::MAX, 3),
                (7, u32::MAX),
                (u32::MAX, u32::MAX),
            ] {
                assert_eq!(
                    rescale(t, to, from),
                    exact(t, to, from),
                    "{t} * {to} / {from}"
                );
            }
            assert_eq!(rescale(t, 5, 0), 0);
        }
        assert_eq!(rescale_u64(u64::MAX, 3, 2), u64::MAX);
        assert_eq!(rescale_u64(u64::MAX, 2, 3), u64::MAX / 3 * 2);
    }
}
