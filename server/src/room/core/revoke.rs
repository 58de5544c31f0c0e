//! Links that can be taken back (issue 22): which token each connection holds, and the tokens the
//! host has revoked. A revoked token's connections are closed with 4401 here and, through the bus,
//! on every other instance; a connection that was authorised just before the revocation and joins
//! after it is closed as it joins. The store refuses the token from then on (`auth.rs`).

use crate::close::CloseCode;
use crate::ids::{Role, TokenHash};
use crate::sync::peer::BusMessage;
use tokio::time::Instant;

use super::super::conn::ConnId;
use super::RoomCore;
use crate::room::effect::Effect;

impl RoomCore {
    /// [`RoomCore::join`] for a connection authorised by `token`: refused with 4401 when the token
    /// was revoked meanwhile.
    pub fn join_holding(&mut self, now: Instant, id: ConnId, role: Role, token: Option<TokenHash>) {
        if let Some(token) = token {
            if self.revoked.contains(&token) {
                tracing::info!(room = %self.config.id, conn = id.0, "join with a revoked token refused");
                self.out.push(Effect::Close {
                    conn: id,
                    code: CloseCode::Unauthorized,
                });
                return;
            }
            self.holders.insert(id, token);
        }
        self.join(now, id, role);
    }

    /// Tokens of this room were revoked, here (`local`: tell the other instances) or on another
    /// instance: the connections holding them are closed with 4401.
    pub fn revoke(&mut self, now: Instant, tokens: Vec<TokenHash>, local: bool) {
        let closing: Vec<ConnId> = self
            .holders
            .iter()
            .filter(|(_, t)| tokens.contains(t))
            .map(|(c, _)| *c)
            .collect();
        for conn in closing {
            tracing::info!(room = %self.config.id, conn = conn.0, "closing a connection whose token was revoked");
            self.close(now, conn, CloseCode::Unauthorized);
        }
        if local && !tokens.is_empty() {
            self.publish(BusMessage::Revoke(tokens.clone()));
        }
        self.revoked.extend(tokens);
    }
}
