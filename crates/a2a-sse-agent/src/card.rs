//! [`AgentCard`]: what `GET /.well-known/agent-card.json` answers, naming both interfaces.

use bytes::Bytes;
use serde::Serialize;

use crate::error::{A2aError, to_json};
use crate::{A2aConfig, PROTOCOL_VERSION};

/// The agent card the binding serves: who the agent is, and where its two interfaces
/// (`JSONRPC` and `HTTP+JSON`, protocol version 1.0) are, with `capabilities.streaming`
/// on, so that an A2A client that resolves the card the usual way finds the streams.
///
/// The interfaces' URLs are absolute: [`public_url`](Self::public_url) when it is set
/// (the address clients reach, say behind a proxy), else `http://` and the request's
/// `Host` header.
///
/// ```
/// use a2a_sse_agent::AgentCard;
///
/// let card = AgentCard::new("planner", "Follows plan executions", "1.2.0")
///     .public_url("https://agents.example.com");
/// assert_eq!(card.name, "planner");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentCard {
    /// The agent's name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// The agent's own version (not the protocol's).
    pub version: String,
    /// Scheme, host and port clients reach the server at, without a trailing `/`.
    pub public_url: Option<String>,
    /// What the agent can do; the card lists one skill, "follow a plan", when empty.
    pub skills: Vec<AgentSkill>,
}

/// One skill listed in the card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AgentSkill {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Keywords.
    pub tags: Vec<String>,
}

impl AgentSkill {
    /// A skill with these fields.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        description: impl Into<String>,
        tags: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            tags: tags.into_iter().map(Into::into).collect(),
        }
    }
}

impl AgentCard {
    /// A card for the agent `name`.
    #[must_use]
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            version: version.into(),
            public_url: None,
            skills: Vec::new(),
        }
    }

    /// Names the address clients reach the server at (`https://host:port`).
    #[must_use]
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// Adds a skill.
    #[must_use]
    pub fn skill(mut self, skill: AgentSkill) -> Self {
        self.skills.push(skill);
        self
    }

    /// The card's JSON for a request that named `host`, saying what the agent can do.
    pub(crate) fn render(
        &self,
        config: &A2aConfig,
        capabilities: Capabilities,
        host: Option<&str>,
    ) -> Result<Bytes, A2aError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Interface {
            url: String,
            protocol_binding: &'static str,
            protocol_version: &'static str,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Card<'a> {
            name: &'a str,
            description: &'a str,
            version: &'a str,
            supported_interfaces: [Interface; 2],
            capabilities: Capabilities,
            default_input_modes: [&'static str; 1],
            default_output_modes: [&'static str; 1],
            skills: Vec<AgentSkill>,
        }
        let base = self.public_url.clone().unwrap_or_else(|| {
            let host = host.filter(|h| is_host(h)).unwrap_or("localhost");
            format!("http://{host}")
        });
        let rest = config.rest_base.trim_end_matches('/');
        let skills = if self.skills.is_empty() {
            vec![AgentSkill::new(
                "follow-plan",
                "Follow a plan",
                "Streams a plan's status and artifact updates as they happen",
                ["a2a-sse", "streaming"],
            )]
        } else {
            self.skills.clone()
        };
        to_json(&Card {
            name: &self.name,
            description: &self.description,
            version: &self.version,
            supported_interfaces: [
                Interface {
                    url: format!("{base}{}", config.jsonrpc_path),
                    protocol_binding: "JSONRPC",
                    protocol_version: PROTOCOL_VERSION,
                },
                Interface {
                    url: format!("{base}{rest}"),
                    protocol_binding: "HTTP+JSON",
                    protocol_version: PROTOCOL_VERSION,
                },
            ],
            capabilities,
            default_input_modes: ["application/json"],
            default_output_modes: ["application/json"],
            skills,
        })
    }
}

/// What the card says the agent can do: only what is true of this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Capabilities {
    /// `SendStreamingMessage` and `SubscribeToTask` are served.
    pub(crate) streaming: bool,
    /// Push notification configs are served.
    pub(crate) push_notifications: bool,
    /// An extended card is served.
    pub(crate) extended_agent_card: bool,
}

/// A strong entity tag of the card's bytes: the same on every replica serving the same
/// card.
pub(crate) fn etag(body: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(body);
    let hex: String = digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// Whether a `Host` header value is a plain `host[:port]` (no scheme, path or spaces), so
/// a forged one cannot put anything else into the card's URLs.
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const CAPS: Capabilities = Capabilities {
        streaming: true,
        push_notifications: false,
        extended_agent_card: false,
    };

    #[test]
    fn the_card_names_both_interfaces_with_absolute_urls() {
        let card = AgentCard::new("a", "d", "0.1.0");
        let value: Value = serde_json::from_slice(
            &card
                .render(&A2aConfig::default(), CAPS, Some("127.0.0.1:3000"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            value["supportedInterfaces"],
            json!([
                {"url": "http://127.0.0.1:3000/a2a/jsonrpc", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
                {"url": "http://127.0.0.1:3000/a2a", "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0"}
            ])
        );
        assert_eq!(value["capabilities"]["streaming"], true);
        assert_eq!(value["skills"][0]["id"], "follow-plan");
        assert_eq!(value["name"], "a");

        let public = AgentCard::new("a", "d", "1")
            .public_url("https://x.example/")
            .skill(AgentSkill::new("s", "S", "does s", ["t"]));
        let value: Value = serde_json::from_slice(
            &public
                .render(&A2aConfig::default(), CAPS, Some("ignored"))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            value["supportedInterfaces"][0]["url"],
            "https://x.example/a2a/jsonrpc"
        );
        assert_eq!(
            value["skills"],
            json!([{"id": "s", "name": "S", "description": "does s", "tags": ["t"]}])
        );
    }

    #[test]
    fn a_forged_host_does_not_reach_the_urls() {
        let card = AgentCard::new("a", "d", "1");
        for host in [None, Some("evil.example/x?"), Some("")] {
            let value: Value =
                serde_json::from_slice(&card.render(&A2aConfig::default(), CAPS, host).unwrap())
                    .unwrap();
            assert_eq!(
                value["supportedInterfaces"][1]["url"],
                "http://localhost/a2a"
            );
        }
    }
}
