//! Newtypes for identifiers and secrets, so a room id is never passed where a token belongs.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// 128 random bits as 22 base64url characters.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A room id: 128 random bits, base64url.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoomId(String);

impl RoomId {
    pub fn random() -> RoomId {
        RoomId(random_id())
    }

    /// Accepts only the shape this server issues, so arbitrary strings never reach storage or Redis keys.
    pub fn parse(s: &str) -> Option<RoomId> {
        let ok = (16..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| RoomId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a token lets its holder do in a room. `host` (the room's creator) can do everything `edit`
/// can, and runs the interview (issue 22).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Host,
    Edit,
    View,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Host => "host",
            Role::Edit => "edit",
            Role::View => "view",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "host" => Some(Role::Host),
            "edit" => Some(Role::Edit),
            "view" => Some(Role::View),
            _ => None,
        }
    }

    pub fn can_edit(self) -> bool {
        matches!(self, Role::Host | Role::Edit)
    }

    pub fn is_host(self) -> bool {
        matches!(self, Role::Host)
    }
}

/// What a room is for: `practice` (everyone equal, the answer one click away) or `interview` (a host
/// runs the room; the candidate cannot see the answer until the host reveals it).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Practice,
    Interview,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Practice => "practice",
            Mode::Interview => "interview",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "practice" => Some(Mode::Practice),
            "interview" => Some(Mode::Interview),
            _ => None,
        }
    }
}

/// A bearer token as handed to a user. Never stored: only its [`TokenHash`] is.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn random() -> Token {
        Token(random_id())
    }

    pub fn from_user(s: &str) -> Token {
        Token(s.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// SHA-256 of a token, hex: what the store keeps to check a token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(pub String);

/// Identifies one server process (for the bus to drop its own echoes, and for storage row keys).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstanceId(pub String);

impl InstanceId {
    pub fn random() -> InstanceId {
        let mut bytes = [0u8; 8];
        rand::rng().fill_bytes(&mut bytes);
        InstanceId(hex::encode(bytes))
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
