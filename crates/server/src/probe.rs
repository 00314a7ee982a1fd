//! `frameseek probe`: reads a file's structure through core's incremental reader (only the
//! boxes it asks for) and prints the summary as text or JSON. The server's metadata API
//! reads any storage object (archive members too) the same way ([`probe_object`]).

use crate::storage::Object;
use anyhow::{bail, Context, Result};
use frameseek_core::{read_movie, MediaInfo};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Reads the movie in `path` with positioned reads.
pub fn probe_file(path: &Path) -> Result<MediaInfo> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata()?.len();
    let movie = read_movie(size, |start, end| -> Result<Vec<u8>> {
        let mut buf = Vec::with_capacity((end - start) as usize);
        file.seek(SeekFrom::Start(start))?;
        (&mut file).take(end - start).read_to_end(&mut buf)?;
        Ok(buf)
    })
    .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(MediaInfo::from_movie(&movie))
}

/// Reads the movie in a storage object with positioned reads (blocking).
pub fn probe_object(object: &dyn Object) -> Result<MediaInfo> {
    let size = object.len();
    let movie = read_movie(size, |start, end| -> Result<Vec<u8>> {
        if start > end || end > size {
            bail!("read {start}..{end} outside the object ({size} bytes)");
        }
        let len = usize::try_from(end - start)?;
        Ok(Vec::from(object.read_at(start, len)?))
    })?;
    Ok(MediaInfo::from_movie(&movie))
}

/// Runs `frameseek probe`.
pub fn run(path: &Path, json: bool) -> Result<()> {
    let info = probe_file(path)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    println!(
        "container: {}{}",
        info.container,
        if info.fragmented { " (fragmented)" } else { "" }
    );
    println!("duration:  {:.3} s", info.duration);
    for t in &info.tracks {
        let kind = serde_json::to_value(t.kind)?
            .as_str()
            .unwrap_or("other")
            .to_string();
        print!("track {}: {kind} {}", t.id, t.codec);
        if let (Some(w), Some(h)) = (t.width, t.height) {
            print!(" {w}x{h}");
        }
        if let Some(fps) = t.fps {
            print!(" {fps} fps");
        }
        if let (Some(r), Some(c)) = (t.sample_rate, t.channels) {
            print!(" {r} Hz {c} ch");
        }
        print!(" {} frames, {} keyframes", t.frame_count, t.keyframes);
        if t.rotation != 0 {
            print!(", rotation {}", t.rotation);
        }
        if let Some(e) = &t.codec_error {
            print!(" (codec: {e})");
        }
        println!();
    }
    Ok(())
}
