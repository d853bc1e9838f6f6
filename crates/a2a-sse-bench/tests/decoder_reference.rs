//! The load generator's event-stream decoder is written for speed (line ends found with
//! `memchr`, fields borrowed from the read buffer); the test kit's decoder is the plain,
//! byte-at-a-time reference the rest of the project tests against. Both must dispatch the
//! same events, whatever the stream and however it is cut into reads.

use a2a_sse_bench::decoder::{SseDecoder, SseEvent};
use a2a_sse_testkit::Decoder;
use proptest::prelude::*;

/// One line of a stream, before its line end.
fn line() -> impl Strategy<Value = Vec<u8>> {
    let name = prop_oneof![
        Just(b"data".to_vec()),
        Just(b"event".to_vec()),
        Just(b"id".to_vec()),
        Just(b"retry".to_vec()),
        Just(Vec::new()),
        Just(b"dat".to_vec()),
        Just("dätä".as_bytes().to_vec()),
    ];
    // Colons, spaces, NUL, digits, multi-byte UTF-8 and bytes that are not UTF-8 at all.
    let value_byte = prop_oneof![
        Just(b':'),
        Just(b' '),
        Just(0u8),
        b'0'..=b'9',
        b'a'..=b'z',
        Just(0xC3),
        Just(0xA9),
        Just(0xFF),
    ];
    let value = proptest::collection::vec(value_byte, 0..12);
    prop_oneof![
        // `name:value`, `name: value`, or a bare `name`.
        (name.clone(), any::<bool>(), value.clone()).prop_map(|(mut name, space, value)| {
            name.push(b':');
            if space {
                name.push(b' ');
            }
            name.extend(value);
            name
        }),
        name,
        // A comment.
        value.prop_map(|value| [b":".as_slice(), &value].concat()),
    ]
}

/// A whole stream: lines with mixed line ends, blank lines, maybe a byte-order mark.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let ending = prop_oneof![Just(&b"\n"[..]), Just(&b"\r"[..]), Just(&b"\r\n"[..])];
    let item = prop_oneof![
        3 => (line(), ending.clone()).prop_map(|(line, end)| [line.as_slice(), end].concat()),
        1 => ending.prop_map(<[u8]>::to_vec),
    ];
    (any::<bool>(), proptest::collection::vec(item, 0..40)).prop_map(|(bom, items)| {
        let mut bytes = if bom {
            "\u{feff}".as_bytes().to_vec()
        } else {
            Vec::new()
        };
        bytes.extend(items.concat());
        bytes
    })
}

/// `(type, id, data)` of every dispatched event, the retry value and the comment count.
type Decoded = (Vec<(String, String, String)>, Option<u64>, usize);

fn with_fast_decoder(pieces: &[&[u8]]) -> Decoded {
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    for piece in pieces {
        decoder.feed(piece, &mut |e: SseEvent<'_>| {
            events.push((e.event.to_owned(), e.id.to_owned(), e.data.to_owned()));
        });
    }
    let comments = usize::try_from(decoder.comments()).unwrap();
    (events, decoder.retry_ms(), comments)
}

fn with_reference(pieces: &[&[u8]]) -> Decoded {
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    for piece in pieces {
        for e in decoder.feed(piece) {
            // The reference leaves the default type empty; the fast decoder names it.
            let kind = if e.event.is_empty() {
                "message".to_owned()
            } else {
                e.event
            };
            events.push((kind, e.id, e.data));
        }
    }
    (events, decoder.retry, decoder.comments.len())
}

/// `bytes` cut at the given positions (taken modulo its length, in any order).
fn cut<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|c| c % (bytes.len() + 1))
        .chain([0, bytes.len()])
        .collect();
    at.sort_unstable();
    at.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_fast_decoder_agrees_with_the_reference(
        bytes in stream(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let pieces = cut(&bytes, &cuts);
        prop_assert_eq!(with_fast_decoder(&pieces), with_reference(&pieces));
    }
}

#[test]
fn the_property_sees_what_it_checks() {
    // A stream the generator can produce, with every case the property is meant to cover.
    let bytes = "\u{feff}id: 1\r\nevent: e\rdata: a:b\n\r\ndata\n\n: note\nretry: 25\nid: x\0\ndata:\u{e9}\n\n"
        .as_bytes();
    let expected = (
        vec![
            ("e".to_owned(), "1".to_owned(), "a:b".to_owned()),
            ("message".to_owned(), "1".to_owned(), String::new()),
            ("message".to_owned(), "1".to_owned(), "\u{e9}".to_owned()),
        ],
        Some(25),
        1,
    );
    for split in 0..=bytes.len() {
        let pieces = cut(bytes, &[split]);
        assert_eq!(with_fast_decoder(&pieces), expected, "split at {split}");
        assert_eq!(with_reference(&pieces), expected, "split at {split}");
    }
}
