//! Timeline markers: `{ id, time, duration?, label, class? }` attached to a video (or to a
//! live source), validated here, kept by a [`MarkerStore`] ([`sqlite`] now, PostgreSQL later
//! behind the same trait), and written into HLS playlists as EXT-X-DATERANGE ([`playlist`]).

pub mod playlist;
pub mod sqlite;

use futures_util::future::BoxFuture;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// Longest label, in characters.
pub const MAX_LABEL: usize = 200;
/// Longest class, in characters.
pub const MAX_CLASS: usize = 64;
/// Largest JSON body a marker request may send.
pub const MAX_BODY: usize = 16 * 1024;
/// Most markers one owner may hold (bounds the playlists that carry them).
pub const MAX_PER_OWNER: usize = 10_000;

/// One stored marker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Marker {
    /// Unique id (per store).
    pub id: i64,
    /// Seconds on the video's timeline (for a live source: seconds since the Unix epoch).
    pub time: f64,
    /// Seconds the marked event lasts, if it is a range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// What to show.
    pub label: String,
    /// A category (letters, digits, `.`, `_`, `-`), e.g. `motion` or `com.example.note`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// When the marker was stored (RFC 3339, UTC).
    pub created: String,
}

/// A marker to store: validated fields, no id yet.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMarker {
    /// Seconds (see [`Marker::time`]).
    pub time: f64,
    /// Seconds, positive.
    pub duration: Option<f64>,
    /// 1..=[`MAX_LABEL`] characters, no control characters.
    pub label: String,
    /// 1..=[`MAX_CLASS`] characters of `[A-Za-z0-9._-]`.
    pub class: Option<String>,
}

/// A request body parsed but not yet placed in time: `time` may be missing (a live marker
/// at the live edge).
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// `time`, if given.
    pub time: Option<f64>,
    /// `duration`, if given.
    pub duration: Option<f64>,
    /// `label`.
    pub label: String,
    /// `class`, if given.
    pub class: Option<String>,
}

impl Draft {
    /// Parses and checks a JSON body `{ time?, duration?, label, class? }`. `Err` is the
    /// message for a 400.
    pub fn parse(body: &[u8]) -> Result<Draft, String> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
        let serde_json::Value::Object(map) = value else {
            return Err("the body must be a JSON object { time, duration?, label, class? }".into());
        };
        if let Some(k) = map
            .keys()
            .find(|k| !["time", "duration", "label", "class"].contains(&k.as_str()))
        {
            return Err(format!(
                "unknown field {k:?} (allowed: time, duration, label, class)"
            ));
        }
        let number = |name: &str| -> Result<Option<f64>, String> {
            match map.get(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::Number(n)) => n
                    .as_f64()
                    .filter(|v| v.is_finite())
                    .map(Some)
                    .ok_or_else(|| format!("{name} must be a finite number of seconds")),
                Some(_) => Err(format!("{name} must be a number of seconds")),
            }
        };
        let time = number("time")?;
        if time.is_some_and(|t| t < 0.0) {
            return Err("time must be >= 0".into());
        }
        let duration = number("duration")?;
        if duration.is_some_and(|d| d <= 0.0) {
            return Err("duration must be > 0 seconds (leave it out for a point marker)".into());
        }
        let label = match map.get("label") {
            Some(serde_json::Value::String(s)) => s.trim().to_string(),
            Some(_) => return Err("label must be a string".into()),
            None => return Err("label is required".into()),
        };
        check_label(&label)?;
        let class = match map.get("class") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => {
                check_class(s)?;
                Some(s.clone())
            }
            Some(_) => return Err("class must be a string".into()),
        };
        Ok(Draft {
            time,
            duration,
            label,
            class,
        })
    }

    /// The marker at `time` (the draft's own time if it has one), checked against the
    /// timeline's end `max` when it is known.
    pub fn place(self, default_time: Option<f64>, max: Option<f64>) -> Result<NewMarker, String> {
        let time = self
            .time
            .or(default_time)
            .ok_or_else(|| "time is required (seconds from the start)".to_string())?;
        if let Some(max) = max {
            if time > max + 1e-6 {
                return Err(format!(
                    "time {time} is past the end of the video ({max:.3} s)"
                ));
            }
        }
        Ok(NewMarker {
            time,
            duration: self.duration,
            label: self.label,
            class: self.class,
        })
    }
}

fn check_label(label: &str) -> Result<(), String> {
    let n = label.chars().count();
    if n == 0 {
        return Err("label must not be empty".into());
    }
    if n > MAX_LABEL {
        return Err(format!("label is longer than {MAX_LABEL} characters"));
    }
    if label.chars().any(char::is_control) {
        return Err("label must not contain control characters (newlines, tabs...)".into());
    }
    Ok(())
}

fn check_class(class: &str) -> Result<(), String> {
    let ok = !class.is_empty()
        && class.len() <= MAX_CLASS
        && class
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "class must be 1..={MAX_CLASS} characters of letters, digits, '.', '_' or '-'"
        ))
    }
}

/// A store failure (the database is unreachable, full, corrupt...): a 500 for the client.
#[derive(Debug, Clone)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// What [`MarkerStore::add`] can refuse.
#[derive(Debug, Clone)]
pub enum AddError {
    /// The owner already has [`MAX_PER_OWNER`] markers.
    Full,
    /// The store failed.
    Store(StoreError),
}

/// Where markers live. Owners are video ids, or `live:NAME` for live sources. Every method
/// returns a `'static` future so that handlers can hold it across awaits; an `Ok` from
/// [`MarkerStore::add`] or [`MarkerStore::delete`] means the change is durable.
pub trait MarkerStore: Send + Sync + 'static {
    /// The owner's markers, by time (then id).
    fn list(&self, owner: &str) -> BoxFuture<'static, Result<Vec<Marker>, StoreError>>;
    /// Markers of `owner` whose range reaches `from` or later (for live windows).
    fn list_since(
        &self,
        owner: &str,
        from: f64,
    ) -> BoxFuture<'static, Result<Vec<Marker>, StoreError>>;
    /// Stores a marker and returns it with its id.
    fn add(&self, owner: &str, marker: NewMarker) -> BoxFuture<'static, Result<Marker, AddError>>;
    /// Deletes one marker; `false` if the owner has none with that id.
    fn delete(&self, owner: &str, id: i64) -> BoxFuture<'static, Result<bool, StoreError>>;
    /// Deletes every marker of the owner; returns how many there were.
    fn delete_all(&self, owner: &str) -> BoxFuture<'static, Result<u64, StoreError>>;
    /// How many markers each of `owners` has (owners without any are absent).
    fn counts(
        &self,
        owners: Vec<String>,
    ) -> BoxFuture<'static, Result<HashMap<String, usize>, StoreError>>;
}

/// The owner key of a live source's markers.
pub fn live_owner(name: &str) -> String {
    format!("live:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_are_checked() {
        let d = Draft::parse(br#"{"time": 1.5, "label": " goal ", "class": "sport.goal"}"#)
            .expect("valid");
        assert_eq!(d.label, "goal");
        assert_eq!(d.time, Some(1.5));
        let m = d.place(None, Some(2.0)).expect("in range");
        assert_eq!(m.class.as_deref(), Some("sport.goal"));
        for (body, needle) in [
            (&br#"[1]"#[..], "object"),
            (br#"{"label": "x", "time": -1}"#, ">= 0"),
            (br#"{"label": "x", "time": "1"}"#, "number"),
            (br#"{"label": "", "time": 1}"#, "empty"),
            (br#"{"time": 1}"#, "required"),
            (br#"{"label": "a\nb", "time": 1}"#, "control"),
            (br#"{"label": "x", "time": 1, "duration": 0}"#, "> 0"),
            (br#"{"label": "x", "time": 1, "class": "a b"}"#, "class"),
            (
                br#"{"label": "x", "time": 1, "colour": "red"}"#,
                "unknown field",
            ),
            (br#"{"label": "x", "time": 1e999}"#, "JSON"),
            (b"not json", "JSON"),
        ] {
            let err = Draft::parse(body).expect_err("invalid");
            assert!(err.contains(needle), "{err} should mention {needle}");
        }
        let long = format!(r#"{{"label": "{}", "time": 1}}"#, "x".repeat(MAX_LABEL + 1));
        assert!(Draft::parse(long.as_bytes()).is_err());
        let late = Draft::parse(br#"{"label": "x", "time": 9}"#).expect("valid");
        assert!(late.place(None, Some(2.0)).is_err());
        let live = Draft::parse(br#"{"label": "x"}"#).expect("valid");
        assert_eq!(live.place(Some(5.0), None).expect("placed").time, 5.0);
    }
}
