//! The interview state of a room (issue 22), sans I/O: lock, driver, the shared clock and its
//! phases, revealed hints, the revealed solution, the curveball and the host's private notes.
//!
//! [`Interview::apply`] takes a host action and the wall-clock time in epoch milliseconds (the clock's
//! `ends_at` is an epoch instant every participant compares with the server's time, so it is the same
//! on every instance and after a reconnect). What a candidate may see is [`Interview::public`]; the
//! host also gets [`Interview::host_view`] (every hint, the notes). The whole state, notes included,
//! is what is stored and published to the other instances ([`Interview::to_stored`]); `version`
//! orders those copies, so an instance keeps the newest one whatever order they arrive in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::sections::ApiOverride;

use crate::ids::Mode;
use crate::simulation::Scenario;

/// A phase of the interview clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    pub minutes: f64,
}

impl Phase {
    fn ms(&self) -> i64 {
        (self.minutes * 60_000.0).round() as i64
    }
}

/// The default phases of a system design interview (45 minutes).
pub fn default_phases() -> Vec<Phase> {
    [
        ("requirements", 5.0),
        ("estimates", 5.0),
        ("api_and_data_model", 10.0),
        ("high_level_design", 15.0),
        ("deep_dive", 10.0),
    ]
    .into_iter()
    .map(|(name, minutes)| Phase {
        name: name.into(),
        minutes,
    })
    .collect()
}

/// The shared clock. Running: `ends_at` set. Paused (or not started): `paused_remaining_ms` set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clock {
    pub phase: usize,
    pub phases: Vec<Phase>,
    pub ends_at: Option<i64>,
    pub paused_remaining_ms: Option<i64>,
}

impl Default for Clock {
    fn default() -> Clock {
        let phases = default_phases();
        let first = phases[0].ms();
        Clock {
            phase: 0,
            phases,
            ends_at: None,
            paused_remaining_ms: Some(first),
        }
    }
}

/// A host action, as `POST /api/rooms/{room}/host` and the WebSocket's `host_action` message carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    Lock,
    Unlock,
    RevealHint {
        index: usize,
    },
    RevealSolution,
    HideSolution,
    /// Starts (or resumes) the clock; `phases` replaces the phases (and restarts from the first).
    ClockStart {
        #[serde(default)]
        phases: Option<Vec<Phase>>,
    },
    ClockPause,
    NextPhase,
    /// Hands editing to one participant (an awareness client id), or back to everyone (`null`).
    Driver {
        client: Option<u64>,
    },
    Curveball {
        scenario: Scenario,
    },
    ClearCurveball,
    Notes {
        text: String,
    },
    /// The host's verdict on one functional requirement of the API checklist (the `api_coverage`
    /// section check, issue 23): `covered` true / false overrides the name matching, `null` gives
    /// the item back to it. `by` is the host's display name (a label, as awareness names are).
    ApiOverride {
        requirement: String,
        covered: Option<bool>,
        #[serde(default)]
        by: Option<String>,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Lock => "lock",
            Action::Unlock => "unlock",
            Action::RevealHint { .. } => "reveal_hint",
            Action::RevealSolution => "reveal_solution",
            Action::HideSolution => "hide_solution",
            Action::ClockStart { .. } => "clock_start",
            Action::ClockPause => "clock_pause",
            Action::NextPhase => "next_phase",
            Action::Driver { .. } => "driver",
            Action::Curveball { .. } => "curveball",
            Action::ClearCurveball => "clear_curveball",
            Action::Notes { .. } => "notes",
            Action::ApiOverride { .. } => "api_override",
        }
    }
}

/// Longest requirement an API override names, longest `by`, most overrides a room holds.
pub const MAX_REQUIREMENT: usize = 1024;
pub const MAX_BY: usize = 80;
pub const MAX_OVERRIDES: usize = 256;

/// Longest private notes accepted (bytes).
pub const MAX_NOTES: usize = 64 * 1024;
/// At most this many phases, each at most a day.
const MAX_PHASES: usize = 32;

/// Why an action was refused (400 `bad_request`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActionError {
    #[error("hint {index} does not exist (the problem has {count})")]
    NoSuchHint { index: usize, count: usize },
    #[error("the clock is already in its last phase")]
    LastPhase,
    #[error("phases must be 1 to {MAX_PHASES}, each with a name and 0 < minutes <= 1440")]
    BadPhases,
    #[error("notes longer than {MAX_NOTES} bytes")]
    NotesTooLong,
    #[error("a curveball's load multiplier must be a positive number")]
    BadCurveball,
    #[error("more than {MAX_ACTIONS_PER_SECOND} host actions in a second: slow down")]
    TooFast,
    #[error(
        "an API override names a requirement of 1 to {MAX_REQUIREMENT} bytes and a name of at most {MAX_BY} bytes; at most {MAX_OVERRIDES} overrides a room"
    )]
    BadOverride,
}

/// Host actions a room takes per second; more are refused (each one is stored and published).
pub const MAX_ACTIONS_PER_SECOND: u32 = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interview {
    pub mode: Mode,
    pub locked: bool,
    pub driver: Option<u64>,
    pub clock: Clock,
    /// Revealed hint indexes, in the order they were revealed.
    pub revealed_hints: Vec<usize>,
    pub solution_revealed: bool,
    pub curveball: Option<Scenario>,
    #[serde(default)]
    pub notes: String,
    /// The host's verdicts on the API checklist: functional requirement → verdict.
    #[serde(default)]
    pub api_overrides: BTreeMap<String, ApiOverride>,
    /// Bumped by every action; orders the copies instances exchange.
    #[serde(default)]
    pub version: u64,
    /// When the last action was taken (epoch ms).
    #[serde(default)]
    pub updated_ms: i64,
}

impl Interview {
    pub fn new(mode: Mode) -> Interview {
        Interview {
            mode,
            locked: false,
            driver: None,
            clock: Clock::default(),
            revealed_hints: Vec::new(),
            solution_revealed: false,
            curveball: None,
            notes: String::new(),
            api_overrides: BTreeMap::new(),
            version: 0,
            updated_ms: 0,
        }
    }

    /// Applies a host action at `now_ms`; `hints` is how many hints the problem has.
    pub fn apply(&mut self, action: &Action, now_ms: i64, hints: usize) -> Result<(), ActionError> {
        match action {
            Action::Lock => self.locked = true,
            Action::Unlock => self.locked = false,
            Action::RevealHint { index } => {
                if *index >= hints {
                    return Err(ActionError::NoSuchHint {
                        index: *index,
                        count: hints,
                    });
                }
                if !self.revealed_hints.contains(index) {
                    self.revealed_hints.push(*index);
                }
            }
            Action::RevealSolution => self.solution_revealed = true,
            Action::HideSolution => self.solution_revealed = false,
            Action::ClockStart { phases } => {
                if let Some(phases) = phases {
                    let ok = (1..=MAX_PHASES).contains(&phases.len())
                        && phases.iter().all(|p| {
                            !p.name.is_empty()
                                && p.name.len() <= 80
                                && p.minutes > 0.0
                                && p.minutes <= 1440.0
                        });
                    if !ok {
                        return Err(ActionError::BadPhases);
                    }
                    self.clock = Clock {
                        phase: 0,
                        phases: phases.clone(),
                        ends_at: None,
                        paused_remaining_ms: Some(phases[0].ms()),
                    };
                }
                if let Some(remaining) = self.clock.paused_remaining_ms.take() {
                    self.clock.ends_at = Some(now_ms + remaining);
                }
            }
            Action::ClockPause => {
                if let Some(ends_at) = self.clock.ends_at.take() {
                    self.clock.paused_remaining_ms = Some((ends_at - now_ms).max(0));
                }
            }
            Action::NextPhase => {
                if self.clock.phase + 1 >= self.clock.phases.len() {
                    return Err(ActionError::LastPhase);
                }
                self.clock.phase += 1;
                let length = self.clock.phases[self.clock.phase].ms();
                if self.clock.ends_at.is_some() {
                    self.clock.ends_at = Some(now_ms + length);
                } else {
                    self.clock.paused_remaining_ms = Some(length);
                }
            }
            Action::Driver { client } => self.driver = *client,
            Action::Curveball { scenario } => {
                if let crate::simulation::Load::Times(m) = scenario.load
                    && !(m.is_finite() && m > 0.0)
                {
                    return Err(ActionError::BadCurveball);
                }
                self.curveball = Some(scenario.clone());
            }
            Action::ClearCurveball => self.curveball = None,
            Action::Notes { text } => {
                if text.len() > MAX_NOTES {
                    return Err(ActionError::NotesTooLong);
                }
                self.notes = text.clone();
            }
            Action::ApiOverride {
                requirement,
                covered,
                by,
            } => {
                let requirement = requirement.trim();
                let by = by.as_deref().map(str::trim).unwrap_or_default();
                let fresh = !self.api_overrides.contains_key(requirement);
                if requirement.is_empty()
                    || requirement.len() > MAX_REQUIREMENT
                    || by.len() > MAX_BY
                    || (covered.is_some() && fresh && self.api_overrides.len() >= MAX_OVERRIDES)
                {
                    return Err(ActionError::BadOverride);
                }
                match covered {
                    Some(covered) => {
                        self.api_overrides.insert(
                            requirement.to_string(),
                            ApiOverride {
                                covered: *covered,
                                by: if by.is_empty() { "host" } else { by }.to_string(),
                                at: now_ms,
                            },
                        );
                    }
                    None => {
                        self.api_overrides.remove(requirement);
                    }
                }
            }
        }
        self.version += 1;
        self.updated_ms = now_ms;
        Ok(())
    }

    /// Whether a connection whose awareness client ids are `clients` may edit now (the host always).
    pub fn may_edit(
        &self,
        host: bool,
        mut clients: impl Iterator<Item = u64>,
    ) -> Result<(), Refusal> {
        if host {
            return Ok(());
        }
        if self.locked {
            return Err(Refusal::Locked);
        }
        match self.driver {
            Some(driver) if !clients.any(|c| c == driver) => Err(Refusal::NotDriver),
            _ => Ok(()),
        }
    }

    /// Whether a copy from another instance is newer than this one.
    pub fn is_newer(&self, other: &Interview) -> bool {
        (other.version, other.updated_ms) > (self.version, self.updated_ms)
    }

    /// What everyone may see: `{"mode","locked","driver","clock","revealed_hints","solution_revealed","curveball"}`.
    pub fn public(&self, hints: &[String]) -> Value {
        let revealed: Vec<Value> = self
            .revealed_hints
            .iter()
            .filter_map(|&i| hints.get(i).map(|text| json!({"index": i, "text": text})))
            .collect();
        json!({
            "mode": self.mode,
            "locked": self.locked,
            "driver": self.driver,
            "clock": &self.clock,
            "revealed_hints": revealed,
            "solution_revealed": self.solution_revealed,
            "curveball": &self.curveball,
            "api_overrides": &self.api_overrides,
        })
    }

    /// The `interview` message (type 100) for everyone; `now_ms` lets clients correct their clock.
    pub fn message(&self, hints: &[String], now_ms: i64) -> String {
        json!({"type": "interview", "state": self.public(hints), "now": now_ms}).to_string()
    }

    /// The `host` message: the public state, every hint and the notes.
    pub fn host_view(&self, hints: &[String], now_ms: i64) -> String {
        json!({
            "type": "host",
            "state": self.public(hints),
            "hints": hints,
            "notes": &self.notes,
            "now": now_ms,
        })
        .to_string()
    }

    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).expect("an interview state serialises")
    }

    pub fn from_stored(s: &str) -> Result<Interview, serde_json::Error> {
        serde_json::from_str(s)
    }

    /// The simulation scenario the room is judged under.
    pub fn scenario(&self) -> Scenario {
        self.curveball.clone().unwrap_or_else(Scenario::peak)
    }
}

/// Why an edit was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Locked,
    NotDriver,
}

impl Refusal {
    /// The `error` message sent to the refused connection.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Locked => {
                r#"{"type":"error","code":"locked","message":"the host has locked the canvas: edits are not applied"}"#
            }
            Refusal::NotDriver => {
                r#"{"type":"error","code":"not_driver","message":"another participant is driving: edits are not applied"}"#
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000;
    const MIN: i64 = 60_000;

    fn hints() -> Vec<String> {
        vec!["use a cache".into(), "shard by user".into()]
    }

    #[test]
    fn the_clock_runs_pauses_resumes_and_moves_on_by_the_servers_time() {
        let mut iv = Interview::new(Mode::Interview);
        assert_eq!(iv.clock.paused_remaining_ms, Some(5 * MIN), "not started");
        iv.apply(&Action::ClockStart { phases: None }, T0, 2)
            .unwrap();
        assert_eq!(
            (iv.clock.ends_at, iv.clock.paused_remaining_ms),
            (Some(T0 + 5 * MIN), None)
        );
        // Paused after 2 minutes: 3 left, whenever it resumes.
        iv.apply(&Action::ClockPause, T0 + 2 * MIN, 2).unwrap();
        assert_eq!(
            (iv.clock.ends_at, iv.clock.paused_remaining_ms),
            (None, Some(3 * MIN))
        );
        iv.apply(&Action::ClockStart { phases: None }, T0 + 10 * MIN, 2)
            .unwrap();
        assert_eq!(iv.clock.ends_at, Some(T0 + 13 * MIN));
        // Starting a running clock changes nothing.
        iv.apply(&Action::ClockStart { phases: None }, T0 + 11 * MIN, 2)
            .unwrap();
        assert_eq!(iv.clock.ends_at, Some(T0 + 13 * MIN));
        iv.apply(&Action::NextPhase, T0 + 12 * MIN, 2).unwrap();
        assert_eq!((iv.clock.phase, iv.clock.ends_at), (1, Some(T0 + 17 * MIN)));
        // Past its end the clock reads 0 when paused, never negative.
        iv.apply(&Action::ClockPause, T0 + 30 * MIN, 2).unwrap();
        assert_eq!(iv.clock.paused_remaining_ms, Some(0));
        // A paused clock moves to the next phase paused, with the phase's whole length.
        iv.apply(&Action::NextPhase, T0 + 31 * MIN, 2).unwrap();
        assert_eq!(
            (iv.clock.phase, iv.clock.paused_remaining_ms),
            (2, Some(10 * MIN))
        );
        for _ in 0..2 {
            iv.apply(&Action::NextPhase, T0 + 32 * MIN, 2).unwrap();
        }
        assert_eq!(
            iv.apply(&Action::NextPhase, T0 + 33 * MIN, 2),
            Err(ActionError::LastPhase)
        );
        // Custom phases restart the clock from their first.
        let phases = vec![Phase {
            name: "all".into(),
            minutes: 45.0,
        }];
        iv.apply(
            &Action::ClockStart {
                phases: Some(phases),
            },
            T0 + 40 * MIN,
            2,
        )
        .unwrap();
        assert_eq!((iv.clock.phase, iv.clock.ends_at), (0, Some(T0 + 85 * MIN)));
        let bad = vec![Phase {
            name: "x".into(),
            minutes: -1.0,
        }];
        assert_eq!(
            iv.apply(&Action::ClockStart { phases: Some(bad) }, T0, 2),
            Err(ActionError::BadPhases)
        );
    }

    #[test]
    fn only_revealed_hints_and_never_the_notes_are_public() {
        let mut iv = Interview::new(Mode::Interview);
        iv.apply(
            &Action::Notes {
                text: "weak on caching".into(),
            },
            T0,
            2,
        )
        .unwrap();
        let public = iv.message(&hints(), T0);
        assert!(!public.contains("use a cache") && !public.contains("shard by user"));
        assert!(!public.contains("weak on caching"));
        iv.apply(&Action::RevealHint { index: 1 }, T0, 2).unwrap();
        iv.apply(&Action::RevealHint { index: 1 }, T0, 2).unwrap();
        let public = iv.public(&hints());
        assert_eq!(
            public["revealed_hints"],
            json!([{"index": 1, "text": "shard by user"}])
        );
        assert_eq!(
            iv.apply(&Action::RevealHint { index: 2 }, T0, 2),
            Err(ActionError::NoSuchHint { index: 2, count: 2 })
        );
        let host: Value = serde_json::from_str(&iv.host_view(&hints(), T0)).unwrap();
        assert_eq!(host["notes"], "weak on caching");
        assert_eq!(host["hints"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn lock_and_driver_decide_who_edits() {
        let mut iv = Interview::new(Mode::Interview);
        assert_eq!(iv.may_edit(false, [7].into_iter()), Ok(()));
        iv.apply(&Action::Lock, T0, 0).unwrap();
        assert_eq!(iv.may_edit(false, [7].into_iter()), Err(Refusal::Locked));
        assert_eq!(iv.may_edit(true, [].into_iter()), Ok(()));
        iv.apply(&Action::Unlock, T0, 0).unwrap();
        iv.apply(&Action::Driver { client: Some(7) }, T0, 0)
            .unwrap();
        assert_eq!(iv.may_edit(false, [3, 7].into_iter()), Ok(()));
        assert_eq!(iv.may_edit(false, [3].into_iter()), Err(Refusal::NotDriver));
        assert_eq!(iv.may_edit(true, [3].into_iter()), Ok(()));
        iv.apply(&Action::Driver { client: None }, T0, 0).unwrap();
        assert_eq!(iv.may_edit(false, [3].into_iter()), Ok(()));
    }

    #[test]
    fn actions_parse_as_the_contract_names_them_and_copies_order_by_version() {
        let parse = |s: &str| serde_json::from_str::<Action>(s);
        assert_eq!(
            parse(r#"{"action":"reveal_hint","index":0}"#).unwrap(),
            Action::RevealHint { index: 0 }
        );
        assert_eq!(
            parse(r#"{"action":"driver","client":null}"#).unwrap(),
            Action::Driver { client: None }
        );
        let curveball = parse(
            r#"{"action":"curveball","scenario":{"load":3,"fail":["db"],"cold_cache":true}}"#,
        )
        .unwrap();
        assert_eq!(curveball.name(), "curveball");
        assert!(parse(r#"{"action":"explode"}"#).is_err());
        assert!(
            parse(r#"{"action":"reveal_hint"}"#).is_err(),
            "index missing"
        );

        let mut a = Interview::new(Mode::Interview);
        let b = a.clone();
        a.apply(&curveball, T0, 0).unwrap();
        assert!(b.is_newer(&a) && !a.is_newer(&b));
        assert!(a.scenario().cold_cache);
        let stored = Interview::from_stored(&a.to_stored()).unwrap();
        assert_eq!(stored, a);
        assert_eq!(
            a.apply(
                &Action::Curveball {
                    scenario: Scenario {
                        load: crate::simulation::Load::Times(0.0),
                        ..Scenario::default()
                    }
                },
                T0,
                0
            ),
            Err(ActionError::BadCurveball)
        );
    }

    #[test]
    fn api_verdicts_are_kept_replaced_and_withdrawn() {
        let mut iv = Interview::new(Mode::Interview);
        let verdict =
            |requirement: &str, covered: Option<bool>, by: Option<&str>| Action::ApiOverride {
                requirement: requirement.into(),
                covered,
                by: by.map(String::from),
            };
        iv.apply(&verdict(" Read posts ", Some(true), Some("Hana")), T0, 2)
            .unwrap();
        assert_eq!(
            iv.api_overrides["Read posts"],
            ApiOverride {
                covered: true,
                by: "Hana".into(),
                at: T0
            }
        );
        iv.apply(&verdict("Read posts", Some(false), None), T0 + 1, 2)
            .unwrap();
        assert_eq!(iv.api_overrides["Read posts"].by, "host");
        assert!(!iv.api_overrides["Read posts"].covered);
        assert_eq!(
            iv.public(&hints())["api_overrides"]["Read posts"]["covered"],
            false
        );
        // Stored and read back.
        let back = Interview::from_stored(&iv.to_stored()).unwrap();
        assert_eq!(back.api_overrides, iv.api_overrides);
        // A state stored before verdicts existed reads with none.
        let mut old: serde_json::Value = serde_json::from_str(&iv.to_stored()).unwrap();
        old.as_object_mut().unwrap().remove("api_overrides");
        assert!(
            Interview::from_stored(&old.to_string())
                .unwrap()
                .api_overrides
                .is_empty()
        );
        iv.apply(&verdict("Read posts", None, None), T0 + 2, 2)
            .unwrap();
        assert!(iv.api_overrides.is_empty());
        let version = iv.version;
        for bad in [
            verdict("  ", Some(true), None),
            verdict(&"r".repeat(MAX_REQUIREMENT + 1), Some(true), None),
            verdict("Read posts", Some(true), Some(&"b".repeat(MAX_BY + 1))),
        ] {
            assert_eq!(iv.apply(&bad, T0 + 3, 2), Err(ActionError::BadOverride));
        }
        for i in 0..MAX_OVERRIDES {
            iv.apply(&verdict(&format!("r{i}"), Some(true), None), T0 + 4, 2)
                .unwrap();
        }
        assert_eq!(
            iv.apply(&verdict("one more", Some(true), None), T0 + 5, 2),
            Err(ActionError::BadOverride)
        );
        // Changing or withdrawing one that exists is still allowed at the cap.
        iv.apply(&verdict("r0", Some(false), None), T0 + 5, 2)
            .unwrap();
        iv.apply(&verdict("r1", None, None), T0 + 5, 2).unwrap();
        assert_eq!(iv.version, version + MAX_OVERRIDES as u64 + 2);
    }
}
