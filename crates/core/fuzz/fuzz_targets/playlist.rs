//! Fuzzes the HLS playlist parser and what reads its result: arbitrary bytes as a playlist
//! (master or media); a media playlist is resolved against a base, put on a timeline,
//! compared with itself as a live update and asked for segments, markers and frames.
#![no_main]

use frameseek_core::hls::playlist::{
    choose_variant, live_update, parse_playlist, reload_interval, Playlist, VariantPrefs,
};
use frameseek_core::hls::timeline::HlsTimeline;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_playlist(data) {
        Ok(Playlist::Master(mut master)) => {
            master.resolve_uris("https://example.com/a/b/master.m3u8");
            let _ = choose_variant(&master, &VariantPrefs::default());
        }
        Ok(Playlist::Media(mut media)) => {
            media.resolve_uris("https://example.com/a/b/media.m3u8");
            let _ = live_update(&media, &media);
            let _ = reload_interval(&media, true);
            let _ = media.segment_at(media.duration() / 2.0);
            let _ = media.segment_dates();
            let _ = media.markers();
            let mut timeline = HlsTimeline::new(media.clone());
            timeline.set_frame_duration(1.0 / 30.0);
            let frames = timeline.frame_range();
            for k in [
                frames.start,
                frames.start + (frames.end - frames.start) / 2,
                frames.end,
            ] {
                let _ = timeline.segment_for_frame(k);
                let _ = timeline.frame_time(k);
            }
            let _ = timeline.frame_at_time(1.0);
            let _ = timeline.segment_start_frames();
            let _ = timeline.update(media);
        }
        Err(_) => {}
    }
});
