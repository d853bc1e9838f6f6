//! The protocol version a request asks for, and whether it is served.

use a2a_sse_core::RequestHead;

use crate::error::A2aError;

/// The header (and query parameter) naming the client's protocol version.
pub const VERSION_HEADER: &str = "a2a-version";

/// Checks the request's protocol version.
pub(crate) fn negotiate(head: &dyn RequestHead) -> Result<(), A2aError> {
    let from_query = || {
        form_urlencoded::parse(head.query().unwrap_or_default().as_bytes())
            .find(|(name, _)| name.eq_ignore_ascii_case(VERSION_HEADER))
            .map(|(_, value)| value.into_owned())
    };
    let asked = head
        .header(VERSION_HEADER)
        .map(|value| String::from_utf8_lossy(value).into_owned())
        .or_else(from_query)
        .unwrap_or_default();
    let asked = asked.trim();
    if asked.is_empty() {
        return Err(A2aError::VersionNotSupported(
            "0.3 (no A2A-Version given)".into(),
        ));
    }
    let mut numbers = asked.split('.');
    let major_minor = (numbers.next(), numbers.next());
    let rest_is_numeric = numbers.all(|n| n.parse::<u32>().is_ok());
    match major_minor {
        (Some(major), Some(minor))
            if major.parse::<u32>() == Ok(1)
                && minor.parse::<u32>() == Ok(0)
                && rest_is_numeric =>
        {
            Ok(())
        }
        _ => Err(A2aError::VersionNotSupported(asked.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use a2a_sse_core::OwnedHead;

    /// A request naming `header` in the version header and carrying `query`.
    fn head(header: Option<&str>, query: Option<&str>) -> OwnedHead {
        let head = OwnedHead::new("POST", "/a2a/jsonrpc");
        let head = match query {
            Some(query) => head.query(query),
            None => head,
        };
        match header {
            Some(value) => head.header(VERSION_HEADER, value),
            None => head,
        }
    }

    #[test]
    fn version_negotiation() {
        for ok in ["1.0", "1.0.3", " 1.0 "] {
            assert_eq!(negotiate(&head(Some(ok), None)), Ok(()), "{ok}");
        }
        assert_eq!(negotiate(&head(None, Some("A2A-Version=1.0"))), Ok(()));
        assert_eq!(negotiate(&head(None, Some("a2a-version=1.0.0"))), Ok(()));
        for bad in ["0.3", "1.1", "2.0", "1", "1.x", "1.0.beta"] {
            assert_eq!(
                negotiate(&head(Some(bad), None)),
                Err(A2aError::VersionNotSupported(bad.into())),
                "{bad}"
            );
        }
        for absent in [head(None, None), head(Some(""), None)] {
            let err = negotiate(&absent).unwrap_err();
            assert_eq!(err.code(), -32009);
            assert!(err.to_string().contains("0.3"), "{err}");
        }
    }
}
