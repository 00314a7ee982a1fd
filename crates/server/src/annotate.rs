//! The library listing's additions from the rest of the server: each video's marker count
//! (one store query per page), its transcoded rendition (`urls.transcoded`, and `urls.hls`
//! pointing at it for codecs browsers cannot decode) and its transcoding state.

use crate::library::{Annotation, Annotator, Fill, Video};
use crate::markers::MarkerStore;
use crate::transcode::{is_transcode_only, needs_transcode, offers_transcode, Transcoder};
use frameseek_core::MediaInfo;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use std::sync::Arc;

/// Marker counts and transcoding for listing entries.
pub struct LibraryExtras {
    /// The marker store.
    pub markers: Arc<dyn MarkerStore>,
    /// The transcoder.
    pub transcoder: Transcoder,
}

impl Annotator for LibraryExtras {
    fn annotate<'a>(
        &'a self,
        videos: &'a [(Arc<Video>, Option<Arc<MediaInfo>>)],
    ) -> BoxFuture<'a, Vec<Annotation>> {
        async move {
            let ids: Vec<String> = videos.iter().map(|(v, _)| v.id.clone()).collect();
            let counts = match self.markers.counts(ids).await {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!("marker counts: {e}");
                    None
                }
            };
            videos
                .iter()
                .map(|(video, info)| {
                    let info = info.as_deref();
                    let mut a = Annotation {
                        markers: counts
                            .as_ref()
                            .map(|c| c.get(&video.id).copied().unwrap_or(0)),
                        ..Annotation::default()
                    };
                    if offers_transcode(&video.path, info) {
                        let url = format!("/transcode/{}/master.m3u8", video.id);
                        if needs_transcode(&video.path, info) {
                            a.hls = Some(url.clone());
                        }
                        a.transcoded = Some(url);
                        a.transcode = serde_json::to_value(self.transcoder.status(&video.id)).ok();
                    }
                    if is_transcode_only(&video.path) {
                        let planned = self.transcoder.planned(&video.id);
                        a.fill = Some(Fill {
                            container: video
                                .path
                                .rsplit('.')
                                .next()
                                .unwrap_or("")
                                .to_ascii_lowercase(),
                            duration: planned.as_ref().map(|p| p.duration),
                            width: planned.as_ref().map(|p| p.width),
                            height: planned.as_ref().map(|p| p.height),
                            codec: planned.as_ref().map(|p| p.codec.clone()),
                            frame_count: planned.as_ref().map(|p| p.frames as usize),
                        });
                    }
                    a
                })
                .collect()
        }
        .boxed()
    }
}
