//! UTC timestamps as text (RFC 3339 / ISO 8601), without a date crate: the library's
//! `modified` fields and the EXT-X-PROGRAM-DATE-TIME / DATERANGE dates share this one formatter.

/// `YYYY-MM-DDTHH:MM:SS[.mmm]Z` for `ms` milliseconds since the Unix epoch (negative values
/// are before it); with `millis` false the fraction is left out.
pub fn format(ms: i64, millis: bool) -> String {
    let secs = ms.div_euclid(1000);
    let frac = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, (rem / 60) % 60, rem % 60);
    if millis {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{frac:03}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn formats_known_dates() {
        assert_eq!(format(0, false), "1970-01-01T00:00:00Z");
        assert_eq!(format(1_500, true), "1970-01-01T00:00:01.500Z");
        assert_eq!(format(951_782_400_000, false), "2000-02-29T00:00:00Z");
        assert_eq!(format(1_795_239_167_000, false), "2026-11-21T05:32:47Z");
        assert_eq!(format(-1, true), "1969-12-31T23:59:59.999Z");
    }
}
