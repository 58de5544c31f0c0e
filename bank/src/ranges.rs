//! Ranges for `Parameter range check: T.param` rules, derived from the problem's own constants.
//!
//! The seed writes only `cache.hit_rate`; the range follows from the constants by the rules stated in
//! `problems/README.md` ("Parameter ranges"), and the rule records which constant it used in `derived_from`.

use tierboard::problems::catalog::Catalog;
use tierboard::problems::model::Problem;

/// Least hit rate asked for when the constants name no hit-rate target.
pub const DEFAULT_HIT_RATE: f64 = 0.7;
/// Events per second one stream partition sustains when the constants don't say (`partition_rps`).
pub const DEFAULT_PARTITION_RPS: f64 = 5000.0;

/// (min, max, derived_from) for `ty.param` in problem `p`.
pub fn derive(
    p: &Problem,
    catalog: &Catalog,
    ty: &str,
    param: &str,
) -> Result<(f64, f64, String), String> {
    let kind = catalog
        .kind_of(ty)
        .ok_or_else(|| format!("unknown component type '{ty}'"))?;
    let def = catalog
        .param(ty, param)
        .ok_or_else(|| format!("component type '{ty}' has no parameter '{param}'"))?;
    let max = def.max.unwrap_or(f64::MAX);
    match param {
        "hit_rate" => {
            let mut candidates = vec![format!("{kind}_hit_target"), "cache_hit_target".to_string()];
            // Any other `*_hit_target` (e.g. `aggregate_cache_hit_target`) comes last.
            candidates.extend(
                p.constants
                    .iter()
                    .filter(|c| c.name.ends_with("hit_target"))
                    .map(|c| c.name.clone()),
            );
            for name in candidates {
                if let Some(v) = p.constant_f64(&name) {
                    return Ok((v, max, format!("{name} = {v}")));
                }
            }
            Ok((
                DEFAULT_HIT_RATE,
                max,
                format!("default {DEFAULT_HIT_RATE}: the constants state no hit-rate target"),
            ))
        }
        "partitions" => {
            if let Some(n) = p.constant_f64("partition_count") {
                return Ok((n, max, format!("partition_count = {n}")));
            }
            let (peak, peak_from) = ["peak_rate", "change_rate", "event_rate", "peak_rps"]
                .iter()
                .find_map(|c| p.constant_f64(c).map(|v| (v, format!("{c} = {v}"))))
                .or_else(|| {
                    p.targets.peak_rate_per_sec.map(|v| {
                        (
                            v,
                            format!("peak request rate {v}/s (non-functional requirements)"),
                        )
                    })
                })
                .ok_or_else(|| "no peak rate to size partitions from".to_string())?;
            let (per, per_from) = match p.constant_f64("partition_rps") {
                Some(v) => (v, format!("partition_rps = {v}")),
                None => (
                    DEFAULT_PARTITION_RPS,
                    format!("default partition_rps {DEFAULT_PARTITION_RPS}"),
                ),
            };
            let min = (peak / per).ceil().max(1.0);
            Ok((min, max, format!("ceil({peak_from} ÷ {per_from}) = {min}")))
        }
        other => Err(format!("no derivation rule for parameter '{other}'")),
    }
}
