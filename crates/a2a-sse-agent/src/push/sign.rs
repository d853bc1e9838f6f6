//! [`WebhookSecret`]: the Standard Webhooks signature of a delivery.
//!
//! The signature is `v1,` and the base64 of HMAC-SHA256, keyed by the secret's bytes,
//! over `{webhook-id}.{webhook-timestamp}.{body}`: what the scheme's libraries
//! (`standardwebhooks` on PyPI and npm, among others) verify.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A Standard Webhooks signing secret: `whsec_` and the base64 of its key bytes.
///
/// ```
/// use a2a_sse_agent::push::WebhookSecret;
///
/// let secret: WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// # Ok::<(), a2a_sse_agent::push::SecretError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

/// Why a secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// It does not start with `whsec_`.
    #[error("a webhook secret starts with whsec_")]
    Prefix,
    /// What follows `whsec_` is not base64, or is empty.
    #[error("a webhook secret is whsec_ and the base64 of at least one byte")]
    Key,
}

impl FromStr for WebhookSecret {
    type Err = SecretError;

    fn from_str(text: &str) -> Result<Self, SecretError> {
        let encoded = text.strip_prefix("whsec_").ok_or(SecretError::Prefix)?;
        let key = STANDARD.decode(encoded).map_err(|_| SecretError::Key)?;
        if key.is_empty() {
            return Err(SecretError::Key);
        }
        Ok(Self { key })
    }
}

impl WebhookSecret {
    /// The `webhook-signature` of a delivery: `v1,<base64 HMAC-SHA256>` over
    /// `{id}.{timestamp}.{body}`.
    #[must_use]
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let mac = self.mac(id, &timestamp.to_string(), body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// Whether `signature` (a `webhook-signature` header: one or more space-separated
    /// `v1,<base64>`) holds a signature of `{id}.{timestamp}.{body}` by this secret,
    /// compared in constant time: what a Rust receiver checks. Whether the timestamp is
    /// recent enough (the scheme suggests five minutes) is the receiver's to decide.
    ///
    /// ```
    /// use a2a_sse_agent::push::WebhookSecret;
    ///
    /// let secret: WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
    /// let signature = secret.sign("msg_1", 1_614_265_330, b"{}");
    /// assert!(secret.verify("msg_1", "1614265330", b"{}", &signature));
    /// assert!(!secret.verify("msg_1", "1614265330", b"{ }", &signature));
    /// # Ok::<(), a2a_sse_agent::push::SecretError>(())
    /// ```
    #[must_use]
    pub fn verify(&self, id: &str, timestamp: &str, body: &[u8], signature: &str) -> bool {
        signature.split(' ').any(|one| {
            one.strip_prefix("v1,")
                .and_then(|encoded| STANDARD.decode(encoded).ok())
                .is_some_and(|sent| self.mac(id, timestamp, body).verify_slice(&sent).is_ok())
        })
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_example_does() {
        // The scheme's own test vector.
        let secret: WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let header = "v1,bm90IHRoaXMgb25l v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert!(secret.verify("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body, header));
        assert!(!secret.verify("msg_other", "1614265330", body, header));
        assert!(!secret.verify("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body, "v2,x"));
    }

    #[test]
    fn a_secret_keeps_its_key_out_of_logs() {
        let secret: WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
        let logged = format!("{secret:?} {:?}", Some(&secret));
        assert!(!logged.contains("MfKQ"), "{logged}");
        assert!(!logged.contains(&format!("{:?}", secret.key)), "{logged}");
    }

    #[test]
    fn refuses_what_is_not_a_secret() {
        assert_eq!("MfKQ".parse::<WebhookSecret>(), Err(SecretError::Prefix));
        assert_eq!("whsec_!!".parse::<WebhookSecret>(), Err(SecretError::Key));
        assert_eq!("whsec_".parse::<WebhookSecret>(), Err(SecretError::Key));
    }
}
