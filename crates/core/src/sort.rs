//! One small stable sort for what goes into the browser module. The standard library's sorts
//! are instantiated per element type and comparison, each about 4 KB of WebAssembly (there
//! were three); this bottom-up merge sort by a `u64` key costs a few hundred bytes per use.
//! It is O(n log n) in the worst case and does no merging where neighbouring runs are already
//! in order, so input that is nearly sorted (presentation times in decode order) is cheap.

/// Sorts `v` by `key`, stably (elements with equal keys keep their order). The key function
/// is called through `dyn`, so that there is one copy of the sort per element type.
pub fn sort_by_key<T: Copy>(v: &mut [T], key: &dyn Fn(&T) -> u64) {
    let n = v.len();
    if n < 2 {
        return;
    }
    let mut buf = v.to_vec();
    let mut width = 1;
    while width < n {
        let mut lo = 0;
        while lo + width < n {
            let mid = lo + width;
            let hi = (mid + width).min(n);
            if key(&v[mid - 1]) > key(&v[mid]) {
                buf[lo..hi].copy_from_slice(&v[lo..hi]);
                let (mut i, mut j) = (lo, mid);
                for slot in &mut v[lo..hi] {
                    // Take from the left run on ties: stable.
                    if j >= hi || (i < mid && key(&buf[i]) <= key(&buf[j])) {
                        *slot = buf[i];
                        i += 1;
                    } else {
                        *slot = buf[j];
                        j += 1;
                    }
                }
            }
            lo = hi;
        }
        width = width.saturating_mul(2);
    }
}

/// The `u64` key that orders `i64` values as signed numbers.
pub fn signed_key(v: i64) -> u64 {
    (v as u64) ^ (1 << 63)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably_like_std() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for n in [0usize, 1, 2, 3, 7, 8, 9, 31, 100, 1000, 4097] {
            for range in [3u64, 1000, u64::MAX] {
                let mut v: Vec<(u64, usize)> = (0..n)
                    .map(|i| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        (seed % range.max(1), i)
                    })
                    .collect();
                let mut want = v.clone();
                want.sort_by_key(|e| e.0);
                sort_by_key(&mut v, &|e| e.0);
                assert_eq!(v, want, "n {n} range {range}");
            }
        }
        let mut v = vec![-3i64, 5, i64::MIN, 0, i64::MAX, -1];
        sort_by_key(&mut v, &|&x| signed_key(x));
        assert_eq!(v, [i64::MIN, -3, -1, 0, 5, i64::MAX]);
    }
}
