//! Prints a file's video samples in decode order (debugging aid).
fn main() {
    let path = std::env::args().nth(1).expect("usage: dump FILE");
    let data = std::fs::read(&path).expect("read");
    let movie = frameseek_core::read_movie(
        data.len() as u64,
        |a, b| -> Result<Vec<u8>, frameseek_core::Error> {
            Ok(data[a as usize..(b as usize).min(data.len())].to_vec())
        },
    )
    .expect("movie");
    let t = movie.video_track().expect("video");
    for s in t.index.samples() {
        println!(
            "{:5} pts {:8} dts {:8} sync {} frame {:?} size {}",
            s.index,
            s.pts,
            s.dts,
            s.sync as u8,
            t.index.sample_frame(s.index),
            s.size
        );
    }
}
