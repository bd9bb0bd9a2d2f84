//! Decoder tests on frames built here: nesting, bounds, streams cut anywhere.

use std::io::Write;

use bytes::BytesMut;
use flate2::Compression;
use flate2::write::ZlibEncoder;
use tokio_util::codec::Decoder;

use super::*;

fn window(count: u32) -> Vec<u8> {
    let mut v = b"2W".to_vec();
    v.extend_from_slice(&count.to_be_bytes());
    v
}

fn json(seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = b"2J".to_vec();
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn data(seq: u32, pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut v = b"1D".to_vec();
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
    for (k, val) in pairs {
        v.extend_from_slice(&(k.len() as u32).to_be_bytes());
        v.extend_from_slice(k.as_bytes());
        v.extend_from_slice(&(val.len() as u32).to_be_bytes());
        v.extend_from_slice(val.as_bytes());
    }
    v
}

fn zlib(plain: &[u8]) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::new(3));
    enc.write_all(plain).unwrap();
    enc.finish().unwrap()
}

fn compressed(plain: &[u8]) -> Vec<u8> {
    let z = zlib(plain);
    let mut v = b"2C".to_vec();
    v.extend_from_slice(&(z.len() as u32).to_be_bytes());
    v.extend_from_slice(&z);
    v
}

/// Decodes `stream` fed in `chunk`-byte pieces, then ends it.
fn decode(limits: Limits, stream: &[u8], chunk: usize) -> Result<Vec<Frame>, String> {
    let mut dec = LumberjackDecoder::new(limits);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in stream.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        while let Some(f) = dec.decode(&mut buf).map_err(|e| e.to_string())? {
            out.push(f);
        }
    }
    while let Some(f) = dec.decode_eof(&mut buf).map_err(|e| e.to_string())? {
        out.push(f);
    }
    Ok(out)
}

fn seqs(frames: &[Frame]) -> Vec<u32> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Json { seq, .. } | Frame::Data { seq, .. } => Some(*seq),
            Frame::Window { .. } => None,
        })
        .collect()
}

#[test]
fn nested_compressed_frames_are_unpacked_in_order() {
    let inner = compressed(&[json(2, b"{}"), json(3, b"{}")].concat());
    let outer = compressed(&[json(1, b"{}"), inner, json(4, b"{}")].concat());
    let stream = [window(5), outer, json(5, b"{}")].concat();
    for chunk in [1, 7, stream.len()] {
        let frames = decode(Limits::default(), &stream, chunk).unwrap();
        assert_eq!(seqs(&frames), [1, 2, 3, 4, 5], "chunk {chunk}");
    }
}

#[test]
fn compression_nested_too_deep_is_refused() {
    let mut frame = json(1, b"{}");
    for _ in 0..6 {
        frame = compressed(&frame);
    }
    let err = decode(Limits::default(), &frame, 4096).unwrap_err();
    assert!(err.contains("nested"), "{err}");
}

#[test]
fn zlib_bomb_is_capped_with_the_default_limit() {
    // 65 MiB of zeros compress to about 65 KiB.
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::new(9));
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..65 {
        enc.write_all(&zeros).unwrap();
    }
    let z = enc.finish().unwrap();
    assert!(z.len() < 1024 * 1024);
    let mut frame = b"2C".to_vec();
    frame.extend_from_slice(&(z.len() as u32).to_be_bytes());
    frame.extend_from_slice(&z);
    let mut dec = LumberjackDecoder::default();
    let mut buf = BytesMut::from(&frame[..]);
    assert!(matches!(
        dec.decode(&mut buf),
        Err(LumberjackError::InflatedTooLarge { max }) if max == 64 * 1024 * 1024
    ));
}

#[test]
fn inflation_budget_covers_nested_frames_together() {
    // Each level alone is under the cap; together they are over it.
    let limits = Limits {
        max_inflated: 3000,
        ..Limits::default()
    };
    let events = json(1, &[b'x'; 1500]);
    let inner = compressed(&events);
    let outer = compressed(&[inner, vec![b' '; 1600]].concat());
    let mut dec = LumberjackDecoder::new(limits);
    let mut buf = BytesMut::from(&outer[..]);
    assert!(matches!(
        dec.decode(&mut buf),
        Err(LumberjackError::InflatedTooLarge { max: 3000 })
    ));
}

#[test]
fn compressed_plaintext_must_hold_whole_frames() {
    let mut cut = json(1, b"{\"a\":1}");
    cut.truncate(cut.len() - 2);
    let err = decode(Limits::default(), &compressed(&cut), 4096).unwrap_err();
    assert!(err.contains("ends inside a frame"), "{err}");
    let mut garbage = b"2C".to_vec();
    garbage.extend_from_slice(&4u32.to_be_bytes());
    garbage.extend_from_slice(b"nope");
    let err = decode(Limits::default(), &garbage, 4096).unwrap_err();
    assert!(err.contains("zlib"), "{err}");
}

#[test]
fn oversize_frames_fail_before_their_body_arrives() {
    let limits = Limits {
        max_frame: 10,
        ..Limits::default()
    };
    let mut dec = LumberjackDecoder::new(limits);
    let mut buf = BytesMut::from(&json(1, &[b'x'; 11])[..10]);
    assert!(matches!(
        dec.decode(&mut buf),
        Err(LumberjackError::FrameTooLarge { len: 11, max: 10 })
    ));
    let mut dec = LumberjackDecoder::new(limits);
    let big = data(1, &[("k", "0123456789")]);
    let mut buf = BytesMut::from(&big[..19]);
    assert!(matches!(
        dec.decode(&mut buf),
        Err(LumberjackError::FrameTooLarge { .. })
    ));
}

#[test]
fn v1_data_frames_decode_when_trickled_in() {
    let stream = [
        b"1W\0\0\0\x02".to_vec(),
        data(1, &[("line", "a"), ("host", "h")]),
        data(2, &[]),
    ]
    .concat();
    let whole = decode(Limits::default(), &stream, stream.len()).unwrap();
    assert_eq!(decode(Limits::default(), &stream, 1).unwrap(), whole);
    assert_eq!(
        whole[0],
        Frame::Window {
            version: Version::V1,
            count: 2
        }
    );
    let Frame::Data { seq: 1, pairs } = &whole[1] else {
        panic!("{:?}", whole[1])
    };
    assert_eq!(&pairs[0].0[..], b"line");
    assert_eq!(&pairs[1].1[..], b"h");
    assert_eq!(
        whole[2],
        Frame::Data {
            seq: 2,
            pairs: vec![]
        }
    );
}

#[test]
fn unknown_bytes_and_acks_from_a_client_are_protocol_errors() {
    for bad in [&b"3W\0\0\0\x01"[..], b"2A\0\0\0\x01", b"2X\0\0\0\x01"] {
        let err = decode(Limits::default(), bad, 64).unwrap_err();
        assert!(err.starts_with("lumberjack protocol error"), "{err}");
    }
}

#[test]
fn a_stream_ending_inside_a_frame_is_an_error() {
    let stream = [window(1), json(1, b"{}")].concat();
    let err = decode(Limits::default(), &stream[..stream.len() - 1], 64).unwrap_err();
    assert!(err.contains("ended inside a frame"), "{err}");
}

#[test]
fn ack_frames_are_big_endian() {
    assert_eq!(ack(1000), [b'2', b'A', 0, 0, 0x03, 0xe8]);
    assert_eq!(ack_for(Version::V1, 2), *b"1A\0\0\0\x02");
}
