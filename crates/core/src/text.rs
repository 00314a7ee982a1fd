//! Short strings (error messages, codec strings) built without `core::fmt`. `format!` costs
//! the browser module the formatting machinery plus an argument table at every call site
//! (about 4 KB gzipped in all); [`text!`](crate::text!) appends its pieces to a `String`:
//!
//! ```
//! use frameseek_core::text::{hex, zeros};
//! let s = frameseek_core::text!["avc1.", hex(0x64u8, 2), " level ", 31u8, " ", zeros(5u8, 2)];
//! assert_eq!(s, "avc1.64 level 31 05");
//! ```

use crate::mp4::boxes::FourCC;

/// Something [`text!`](crate::text!) can append: strings, integers (in decimal), a [`FourCC`],
/// a `char`, and the [`hex`]/[`zeros`] forms.
pub trait Piece {
    /// Appends `self` to `out`.
    fn push_to(&self, out: &mut String);
}

/// `String` from pieces: `text!["size ", n, " < 8 for '", kind, "'"]`.
#[macro_export]
macro_rules! text {
    ($($piece:expr),* $(,)?) => {{
        let mut s = ::std::string::String::new();
        $($crate::text::Piece::push_to(&$piece, &mut s);)*
        s
    }};
}

impl<T: Piece + ?Sized> Piece for &T {
    #[inline(always)]
    fn push_to(&self, out: &mut String) {
        (**self).push_to(out);
    }
}

impl Piece for str {
    #[inline(never)]
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for String {
    #[inline(never)]
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for char {
    #[inline(never)]
    fn push_to(&self, out: &mut String) {
        out.push(*self);
    }
}

impl Piece for FourCC {
    #[inline(never)]
    fn push_to(&self, out: &mut String) {
        out.push_str(&self.as_string());
    }
}

macro_rules! unsigned {
    ($($t:ty)*) => {$(
        impl Piece for $t {
            #[inline(never)]
            fn push_to(&self, out: &mut String) {
                push_digits(out, *self as u64, 10, 1, false);
            }
        }
    )*};
}
unsigned!(u8 u16 u32 u64 usize);

macro_rules! signed {
    ($($t:ty)*) => {$(
        impl Piece for $t {
            #[inline(never)]
            fn push_to(&self, out: &mut String) {
                push_signed(out, *self as i64);
            }
        }
    )*};
}
signed!(i32 i64);

/// An unsigned number in hexadecimal (uppercase with [`Digits::upper`]), at least `width` digits.
pub fn hex(v: impl Into<u64>, width: usize) -> Digits {
    Digits {
        value: v.into(),
        radix: 16,
        width,
        upper: false,
    }
}

/// An unsigned number in decimal, zero-padded to at least `width` digits (`{:02}`).
pub fn zeros(v: impl Into<u64>, width: usize) -> Digits {
    Digits {
        value: v.into(),
        radix: 10,
        width,
        upper: false,
    }
}

/// A number with a radix and a minimum width; see [`hex`] and [`zeros`].
#[derive(Debug, Clone, Copy)]
pub struct Digits {
    value: u64,
    radix: u64,
    width: usize,
    upper: bool,
}

impl Digits {
    /// Uppercase hexadecimal digits.
    pub fn upper(self) -> Self {
        Self {
            upper: true,
            ..self
        }
    }
}

impl Piece for Digits {
    #[inline(never)]
    fn push_to(&self, out: &mut String) {
        push_digits(out, self.value, self.radix, self.width, self.upper);
    }
}

fn push_signed(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    push_digits(out, v.unsigned_abs(), 10, 1, false);
}

fn push_digits(out: &mut String, mut v: u64, radix: u64, width: usize, upper: bool) {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut buf = [b'0'; 64];
    let mut i = buf.len();
    while v > 0 || i == buf.len() {
        i -= 1;
        buf[i] = digits[(v % radix) as usize & 15];
        v /= radix;
    }
    let start = i.min(buf.len().saturating_sub(width));
    for &b in &buf[start..] {
        out.push(char::from(b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_match_format() {
        let fourcc = FourCC(*b"avc1");
        let s = crate::text!["a", 'b', String::from("c"), fourcc, " ", 0u8, " ", u64::MAX];
        assert_eq!(s, format!("abcavc1 0 {}", u64::MAX));
        let s = crate::text![i64::MIN, " ", -7i32, " ", 42usize, " ", i32::MAX];
        assert_eq!(s, format!("{} -7 42 {}", i64::MIN, i32::MAX));
        for v in [0u64, 5, 0x1f, 0xab, 0x1234, u64::MAX] {
            assert_eq!(crate::text![hex(v, 2)], format!("{v:02x}"));
            assert_eq!(crate::text![hex(v, 1).upper()], format!("{v:X}"));
            assert_eq!(crate::text![zeros(v, 2)], format!("{v:02}"));
        }
    }
}
