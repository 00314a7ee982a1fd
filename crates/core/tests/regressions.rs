//! Inputs the fuzzer once crashed the reader with (crates/core/tests/regressions/): each must
//! now give a movie or a typed error, and whatever is indexed must plan without panicking.

use frameseek_core::{plan_frame, read_movie, Error, PlanOptions};

#[test]
fn fuzzer_findings_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions dir") {
        let path = entry.expect("entry").path();
        let data = std::fs::read(&path).expect("read");
        let movie = read_movie(data.len() as u64, |a, b| -> Result<Vec<u8>, Error> {
            Ok(data[a as usize..(b as usize).min(data.len())].to_vec())
        });
        if let Ok(movie) = movie {
            for t in &movie.tracks {
                let n = t.index.frame_count();
                for k in [0, n / 2, n.saturating_sub(1)] {
                    let _ = plan_frame(&t.index, k, &PlanOptions::default());
                }
            }
        }
        seen += 1;
    }
    assert!(seen > 0, "no regression inputs in {}", dir.display());
}
