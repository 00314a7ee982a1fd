//! The reader and the decoder driver in headless Chromium (wasm-bindgen-test-runner), over a
//! `blob:` URL holding a barcode fixture: ranges come back byte-exact, overlapping reads share
//! fetches, cached bytes cost no request, and decode passes output exactly the wanted frame,
//! taking the decoder in turns.
#![cfg(target_arch = "wasm32")]

use frameseek_core::{plan_frame, plan_frames, read_movie, PlanOptions};
use frameseek_wasm::decoder::{micros, Decoder, Sink};
use frameseek_wasm::error::Failure;
use frameseek_wasm::fetch::Target;
use frameseek_wasm::notify::Notify;
use frameseek_wasm::reader::{Reader, ReaderOptions};
use js_sys::{Array, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::VideoFrame;

wasm_bindgen_test_configure!(run_in_browser);

const FASTSTART: &[u8] = include_bytes!("../../../tests/fixtures/h264_faststart.mp4");
const MOOV_LAST: &[u8] = include_bytes!("../../../tests/fixtures/h264_bframes_editlist.mp4");
const LONG_GOP: &[u8] = include_bytes!("../../../tests/fixtures/h264_long_gop.mp4");
const HEVC: &[u8] = include_bytes!("../../../tests/fixtures/hevc.mp4");

fn blob_url(bytes: &[u8]) -> String {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).expect("blob");
    web_sys::Url::create_object_url_with_blob(&blob).expect("object URL")
}

fn reader(bytes: &[u8]) -> Rc<Reader> {
    let target = Target {
        url: blob_url(bytes),
        ..Target::default()
    };
    Reader::new(target, ReaderOptions::default(), Rc::new(Notify::default()))
}

/// The 16-bit barcode of a frame: bit k is luma at (20k+10, 12) > 128.
async fn barcode(frame: &VideoFrame) -> usize {
    let size = frame.allocation_size().expect("allocation size");
    let buf = Uint8Array::new_with_length(size);
    let layout = JsFuture::from(frame.copy_to_with_u8_array(&buf))
        .await
        .expect("copyTo");
    let plane = Reflect::get(&layout, &0.into()).expect("plane 0");
    let num = |k: &str| {
        Reflect::get(&plane, &k.into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as u32
    };
    let (offset, stride) = (num("offset"), num("stride"));
    (0..16)
        .filter(|&k| buf.get_index(offset + 12 * stride + 20 * k + 10) > 128)
        .map(|k| 1 << k)
        .sum()
}

#[wasm_bindgen_test]
async fn reader_ranges_shared_fetches_and_cache() {
    let r = reader(FASTSTART);
    r.wait(100, 200, 200).await.expect("first range");
    assert_eq!(r.size(), Some(FASTSTART.len() as u64));
    assert_eq!(
        r.with_bytes(100, 200, <[u8]>::to_vec).as_deref(),
        Some(&FASTSTART[100..200])
    );
    assert_eq!(r.stats().requests, 1);

    // Two overlapping reads at once: the second asks only for what the first does not cover.
    r.fetch(1000, 5000);
    r.fetch(3000, 8000);
    r.wait(3000, 8000, 8000).await.expect("second range");
    r.wait(1000, 5000, 5000).await.expect("third range");
    let s = r.stats();
    assert_eq!(s.requests, 3);
    assert_eq!(s.bytes_fetched, 100 + 4000 + 3000);
    assert_eq!(
        r.with_bytes(990, 8000, <[u8]>::to_vec),
        None,
        "bytes 990..1000 were never read"
    );
    assert_eq!(
        r.with_bytes(1000, 8000, <[u8]>::to_vec).as_deref(),
        Some(&FASTSTART[1000..8000])
    );

    // Cached bytes cost nothing; ranges past the end are clamped to the file.
    r.wait(2000, 7000, 7000).await.expect("cached");
    assert_eq!(r.stats().requests, 3);
    let end = FASTSTART.len() as u64;
    r.wait(end - 10, end, end + 1000).await.expect("tail");
    assert_eq!(
        r.with_bytes(end - 10, end, <[u8]>::to_vec).as_deref(),
        Some(&FASTSTART[FASTSTART.len() - 10..])
    );
}

#[wasm_bindgen_test]
async fn reader_reports_http_errors() {
    let target = Target {
        url: "/no/such/file.mp4".into(),
        ..Target::default()
    };
    let r = Reader::new(
        target,
        ReaderOptions {
            retries: 0,
            ..ReaderOptions::default()
        },
        Rc::new(Notify::default()),
    );
    let err = r.wait(0, 16, 16).await.expect_err("404");
    assert_eq!(err.code, "http");
    assert!(err.message.contains("HTTP 404"), "{}", err.message);
}

#[wasm_bindgen_test]
async fn decoder_outputs_exact_frames() {
    for bytes in [FASTSTART, MOOV_LAST] {
        let movie = read_movie(bytes.len() as u64, |s, e| {
            Ok::<_, frameseek_core::Error>(
                bytes[s as usize..(e as usize).min(bytes.len())].to_vec(),
            )
        })
        .expect("movie");
        let track = movie.video_track().expect("video track");
        let notify = Rc::new(Notify::default());
        let target = Target {
            url: blob_url(bytes),
            ..Target::default()
        };
        let reader = Reader::new(target, ReaderOptions::default(), Rc::clone(&notify));
        let codec = track.codec.clone().map_err(Failure::from);
        let decoder = Decoder::new(codec, None, notify);
        decoder.ready().await.expect("H.264 is decodable");
        for k in [0usize, 1, 29, 30, 44, 89] {
            let plan = plan_frame(&track.index, k, &PlanOptions::default()).expect("plan");
            let sink = Rc::new(Sink::default());
            sink.want(micros(plan.pts, track.index.timescale()), k);
            decoder
                .run(&reader, &track.index, plan.run, &sink, usize::MAX, &|| {
                    false
                })
                .await
                .expect("pass");
            let (got, frame) = sink.take().expect("the wanted frame came out");
            assert_eq!(got, k);
            assert_eq!(
                frame.timestamp() as i64,
                micros(plan.pts, track.index.timescale())
            );
            assert_eq!(barcode(&frame).await, k, "barcode of frame {k}");
            frame.close();
            assert!(sink.is_empty(), "only the wanted frame is kept");
        }
        assert!(decoder.frames_decoded() >= 6);
    }
}

/// A pass whose frames wait for their consumer gives the decoder up to another pass, and goes
/// on, exact, once the consumer takes them.
#[wasm_bindgen_test]
async fn decoder_run_gives_way_while_its_frames_wait() {
    let bytes = LONG_GOP;
    let movie = read_movie(bytes.len() as u64, |s, e| {
        Ok::<_, frameseek_core::Error>(bytes[s as usize..(e as usize).min(bytes.len())].to_vec())
    })
    .expect("movie");
    let index = movie.video_track().expect("video track").index.clone();
    let codec = movie.video_track().expect("video track").codec.clone();
    let notify = Rc::new(Notify::default());
    let target = Target {
        url: blob_url(bytes),
        ..Target::default()
    };
    let reader = Reader::new(target, ReaderOptions::default(), Rc::clone(&notify));
    let decoder = Decoder::new(codec.map_err(Failure::from), None, Rc::clone(&notify));
    decoder.ready().await.expect("H.264 is decodable");

    // 100 frames of the first GOP (300 frames), at most 2 waiting for their consumer: the pass
    // waits with most of its run not fed (at most 16 chunks wait in the decoder).
    let wanted: Vec<usize> = (0..100).collect();
    let plan = plan_frames(&index, &wanted, &PlanOptions::default()).expect("plan")[0].clone();
    assert_eq!(plan.frames, wanted, "frames 0-99 are one pass");
    let sink = Rc::new(Sink::default());
    for &k in &wanted {
        sink.want(
            micros(index.frame_pts(k).expect("pts"), index.timescale()),
            k,
        );
    }
    let done = Rc::new(RefCell::new(None));
    {
        let (reader, index, decoder, sink, done) = (
            Rc::clone(&reader),
            index.clone(),
            Rc::clone(&decoder),
            Rc::clone(&sink),
            Rc::clone(&done),
        );
        wasm_bindgen_futures::spawn_local(async move {
            let r = decoder
                .run(&reader, &index, plan.run, &sink, 2, &|| false)
                .await;
            *done.borrow_mut() = Some(r);
        });
    }
    while sink.len() < 2 {
        frameseek_wasm::fetch::sleep(5).await;
    }

    // Frame 344 (the second GOP) while the first pass holds the decoder, its frames not taken.
    let plan = plan_frame(&index, 344, &PlanOptions::default()).expect("plan");
    let other = Rc::new(Sink::default());
    other.want(micros(plan.pts, index.timescale()), 344);
    decoder
        .run(&reader, &index, plan.run, &other, usize::MAX, &|| false)
        .await
        .expect("pass");
    let (_, frame) = other.take().expect("frame 344 came out");
    assert_eq!(barcode(&frame).await, 344);
    frame.close();
    assert!(done.borrow().is_none(), "the first pass is still waiting");

    // The first pass goes on, from its keyframe, and yields the rest in order (a consumer that
    // takes a frame says so, as `FrameStream::next` does).
    let mut got = Vec::new();
    while got.len() < wanted.len() {
        match sink.take() {
            Some((k, frame)) => {
                assert_eq!(barcode(&frame).await, k, "barcode of frame {k}");
                frame.close();
                got.push(k);
                notify.notify();
            }
            None => frameseek_wasm::fetch::sleep(5).await,
        }
    }
    assert_eq!(got, wanted);
    while done.borrow().is_none() {
        frameseek_wasm::fetch::sleep(5).await;
    }
    assert!(matches!(done.borrow_mut().take(), Some(Ok(()))));
}

#[wasm_bindgen_test]
async fn decoder_names_a_codec_it_cannot_decode() {
    let movie = read_movie(HEVC.len() as u64, |s, e| {
        Ok::<_, frameseek_core::Error>(HEVC[s as usize..(e as usize).min(HEVC.len())].to_vec())
    })
    .expect("movie");
    let track = movie.video_track().expect("video track");
    let decoder = Decoder::new(
        track.codec.clone().map_err(Failure::from),
        None,
        Rc::new(Notify::default()),
    );
    let err = decoder
        .ready()
        .await
        .expect_err("HEVC is not decodable in this Chromium");
    assert_eq!(err.code, "unsupported-codec");
    assert!(err.message.contains("HEVC"), "{}", err.message);
}
