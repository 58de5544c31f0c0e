//! The one table of WebSocket close codes (docs/PROTOCOL.md §2 "Close codes").
//!
//! Every place that ends a connection names a [`CloseCode`]; no bare `u16` close codes elsewhere. The
//! client's `CLOSE_CODES` (client/src/protocol.ts) and the table in docs/PROTOCOL.md are checked against
//! [`CloseCode::ALL`] by `server/tests/close_codes.rs`.

/// Why the server ends a connection. The stock y-websocket client reconnects on every code outside
/// 4400–4499 and gives up on those: a refusal the client cannot fix by retrying is a 44xx code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// 1000: a normal close.
    Normal,
    /// 1001: the server is shutting down (after a flush).
    GoingAway,
    /// 1002: a WebSocket protocol error (e.g. an unmasked client frame).
    ProtocolError,
    /// 1011: an internal error.
    Internal,
    /// 1013: try again later (the room could not be loaded).
    TryAgainLater,
    /// 4000: a write to the connection made no progress for the write timeout (it stopped
    /// reading); the client resyncs on reconnect. A full outbox alone only puts it behind.
    SlowConsumer,
    /// 4002: nothing received for 30 s (dead peer).
    DeadPeer,
    /// 4400: a malformed message (bad varint, truncated frame, bad update, text frame).
    Malformed,
    /// 4401: a missing or wrong token.
    Unauthorized,
    /// 4404: no such room.
    UnknownRoom,
    /// 4413: a message larger than the limit.
    TooLarge,
    /// 4414: the update would take the room's document beyond its size quota.
    DocumentQuota,
    /// 4415: too many updates (or bytes) wait in the room for parts that never arrived.
    TooManyPending,
    /// 4429: more protocol messages in one WebSocket message than the server accepts.
    TooManyMessages,
}

impl CloseCode {
    /// Every code, in the order of the protocol's table.
    pub const ALL: [CloseCode; 14] = [
        CloseCode::Normal,
        CloseCode::GoingAway,
        CloseCode::ProtocolError,
        CloseCode::Internal,
        CloseCode::TryAgainLater,
        CloseCode::SlowConsumer,
        CloseCode::DeadPeer,
        CloseCode::Malformed,
        CloseCode::Unauthorized,
        CloseCode::UnknownRoom,
        CloseCode::TooLarge,
        CloseCode::DocumentQuota,
        CloseCode::TooManyPending,
        CloseCode::TooManyMessages,
    ];

    /// The number on the wire.
    pub const fn code(self) -> u16 {
        match self {
            CloseCode::Normal => 1000,
            CloseCode::GoingAway => 1001,
            CloseCode::ProtocolError => 1002,
            CloseCode::Internal => 1011,
            CloseCode::TryAgainLater => 1013,
            CloseCode::SlowConsumer => 4000,
            CloseCode::DeadPeer => 4002,
            CloseCode::Malformed => 4400,
            CloseCode::Unauthorized => 4401,
            CloseCode::UnknownRoom => 4404,
            CloseCode::TooLarge => 4413,
            CloseCode::DocumentQuota => 4414,
            CloseCode::TooManyPending => 4415,
            CloseCode::TooManyMessages => 4429,
        }
    }

    /// The close frame's reason: a short sentence for people reading logs and devtools.
    pub const fn reason(self) -> &'static str {
        match self {
            CloseCode::Normal => "closed",
            CloseCode::GoingAway => "server shutting down",
            CloseCode::ProtocolError => "websocket protocol error",
            CloseCode::Internal => "internal error",
            CloseCode::TryAgainLater => "room unavailable, retry",
            CloseCode::SlowConsumer => "too slow: resync on reconnect",
            CloseCode::DeadPeer => "nothing received for 30 s",
            CloseCode::Malformed => "malformed message",
            CloseCode::Unauthorized => "missing or invalid token",
            CloseCode::UnknownRoom => "no such room",
            CloseCode::TooLarge => "message too large",
            CloseCode::DocumentQuota => "room document at its size quota",
            CloseCode::TooManyPending => "too many updates waiting for missing parts",
            CloseCode::TooManyMessages => "too many messages in one frame",
        }
    }

    /// Whether the stock client reconnects after this code (it stops on 4400–4499).
    pub const fn reconnects(self) -> bool {
        !matches!(self.code(), 4400..=4499)
    }

    /// The code for a number, if it is one of ours.
    pub fn from_code(code: u16) -> Option<CloseCode> {
        CloseCode::ALL.into_iter().find(|c| c.code() == code)
    }
}

impl std::fmt::Display for CloseCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code(), self.reason())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_round_trip() {
        for c in CloseCode::ALL {
            assert_eq!(CloseCode::from_code(c.code()), Some(c));
        }
        let mut codes: Vec<u16> = CloseCode::ALL.iter().map(|c| c.code()).collect();
        codes.dedup();
        assert_eq!(
            codes.len(),
            CloseCode::ALL.len(),
            "codes are listed once, in order"
        );
        assert_eq!(CloseCode::from_code(4999), None);
    }

    #[test]
    fn only_44xx_stops_the_stock_client() {
        assert!(CloseCode::SlowConsumer.reconnects());
        assert!(CloseCode::TryAgainLater.reconnects());
        assert!(!CloseCode::Malformed.reconnects());
        assert!(!CloseCode::TooLarge.reconnects());
    }
}
