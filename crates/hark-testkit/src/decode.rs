//! Feeding a byte stream to a `tokio_util` decoder the way a socket would:
//! in chunks, then end of stream.

use bytes::BytesMut;
use tokio_util::codec::Decoder;

/// `stream` cut at the offsets `cuts` (any order, any size: each is taken
/// modulo `stream.len() + 1`), as consecutive pieces covering all of it.
pub fn cut<'a>(stream: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    points.push(0);
    points.push(stream.len());
    points.sort_unstable();
    points.windows(2).map(|w| &stream[w[0]..w[1]]).collect()
}

/// Feeds `chunks` to `decoder`, then ends the stream; stops at the first
/// error, which is the last element. `after_chunk` sees the buffer after
/// each chunk has been decoded as far as it goes (to check what the decoder
/// keeps buffered).
pub fn feed<'a, D: Decoder>(
    decoder: &mut D,
    chunks: impl IntoIterator<Item = &'a [u8]>,
    mut after_chunk: impl FnMut(&BytesMut),
) -> Vec<Result<D::Item, D::Error>> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(item)) => out.push(Ok(item)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e));
                    return out;
                }
            }
        }
        after_chunk(&buf);
    }
    loop {
        match decoder.decode_eof(&mut buf) {
            Ok(Some(item)) => out.push(Ok(item)),
            Ok(None) => return out,
            Err(e) => {
                out.push(Err(e));
                return out;
            }
        }
    }
}

/// [`feed`] with errors as their text, so outcomes of two runs compare.
pub fn feed_text<'a, D: Decoder>(
    decoder: &mut D,
    chunks: impl IntoIterator<Item = &'a [u8]>,
    after_chunk: impl FnMut(&BytesMut),
) -> Vec<Result<D::Item, String>>
where
    D::Error: std::fmt::Display,
{
    feed(decoder, chunks, after_chunk)
        .into_iter()
        .map(|r| r.map_err(|e| e.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_util::codec::LinesCodec;

    #[test]
    fn cut_pieces_cover_the_stream_in_order() {
        // 13 is 6 modulo 7: a cut at the end leaves an empty last piece.
        let pieces = cut(b"abcdef", &[4, 1, 13]);
        let want: [&[u8]; 4] = [b"a", b"bcd", b"ef", b""];
        assert_eq!(pieces, want);
    }

    #[test]
    fn a_stream_fed_byte_by_byte_decodes_as_whole() {
        let stream = b"one\ntwo\nthree";
        let whole = feed_text(&mut LinesCodec::new(), [&stream[..]], |_| ());
        let bytes = feed_text(&mut LinesCodec::new(), stream.chunks(1), |_| ());
        assert_eq!(whole, bytes);
        assert_eq!(whole, ["one", "two", "three"].map(|s| Ok(s.to_owned())));
    }
}
