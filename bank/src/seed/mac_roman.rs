//! Repairs text that was UTF-8, decoded once as Mac OS Roman and encoded again (seed 004).
//!
//! `📚` reads as `üìö` and `→` as `‚Üí` in that file: mapping every character back to its Mac Roman
//! byte gives the original UTF-8 bytes. The table is Apple's Mac OS Roman (bytes 0x80–0xFF, with 0xDB
//! as `€`); bytes 0x00–0x7F are ASCII.

/// Mac OS Roman bytes 0x80..=0xFF, in order.
const HIGH: [char; 128] = [
    '\u{00C4}', '\u{00C5}', '\u{00C7}', '\u{00C9}', '\u{00D1}', '\u{00D6}', '\u{00DC}', '\u{00E1}',
    '\u{00E0}', '\u{00E2}', '\u{00E4}', '\u{00E3}', '\u{00E5}', '\u{00E7}', '\u{00E9}', '\u{00E8}',
    '\u{00EA}', '\u{00EB}', '\u{00ED}', '\u{00EC}', '\u{00EE}', '\u{00EF}', '\u{00F1}', '\u{00F3}',
    '\u{00F2}', '\u{00F4}', '\u{00F6}', '\u{00F5}', '\u{00FA}', '\u{00F9}', '\u{00FB}', '\u{00FC}',
    '\u{2020}', '\u{00B0}', '\u{00A2}', '\u{00A3}', '\u{00A7}', '\u{2022}', '\u{00B6}', '\u{00DF}',
    '\u{00AE}', '\u{00A9}', '\u{2122}', '\u{00B4}', '\u{00A8}', '\u{2260}', '\u{00C6}', '\u{00D8}',
    '\u{221E}', '\u{00B1}', '\u{2264}', '\u{2265}', '\u{00A5}', '\u{00B5}', '\u{2202}', '\u{2211}',
    '\u{220F}', '\u{03C0}', '\u{222B}', '\u{00AA}', '\u{00BA}', '\u{03A9}', '\u{00E6}', '\u{00F8}',
    '\u{00BF}', '\u{00A1}', '\u{00AC}', '\u{221A}', '\u{0192}', '\u{2248}', '\u{2206}', '\u{00AB}',
    '\u{00BB}', '\u{2026}', '\u{00A0}', '\u{00C0}', '\u{00C3}', '\u{00D5}', '\u{0152}', '\u{0153}',
    '\u{2013}', '\u{2014}', '\u{201C}', '\u{201D}', '\u{2018}', '\u{2019}', '\u{00F7}', '\u{25CA}',
    '\u{00FF}', '\u{0178}', '\u{2044}', '\u{20AC}', '\u{2039}', '\u{203A}', '\u{FB01}', '\u{FB02}',
    '\u{2021}', '\u{00B7}', '\u{201A}', '\u{201E}', '\u{2030}', '\u{00C2}', '\u{00CA}', '\u{00C1}',
    '\u{00CB}', '\u{00C8}', '\u{00CD}', '\u{00CE}', '\u{00CF}', '\u{00CC}', '\u{00D3}', '\u{00D4}',
    '\u{F8FF}', '\u{00D2}', '\u{00DA}', '\u{00DB}', '\u{00D9}', '\u{0131}', '\u{02C6}', '\u{02DC}',
    '\u{00AF}', '\u{02D8}', '\u{02D9}', '\u{02DA}', '\u{00B8}', '\u{02DD}', '\u{02DB}', '\u{02C7}',
];

/// The Mac Roman byte of `c`, if it has one.
fn byte_of(c: char) -> Option<u8> {
    if c.is_ascii() {
        return Some(c as u8);
    }
    HIGH.iter().position(|&h| h == c).map(|i| 0x80 + i as u8)
}

/// Undoes the mojibake of one line: encode as Mac Roman, decode as UTF-8.
///
/// Fails (with the reason) when a character has no Mac Roman byte or the bytes are not UTF-8, i.e. when
/// the line was not damaged this way.
pub fn repair_line(line: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(line.len());
    for c in line.chars() {
        bytes.push(byte_of(c).ok_or_else(|| format!("character {c:?} has no Mac Roman byte"))?);
    }
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 after Mac Roman encoding: {e}"))
}

/// Repairs a whole text line by line; the error names the 1-based line.
pub fn repair(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&repair_line(line).map_err(|e| format!("line {}: {e}", i + 1))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repairs_known_mojibake() {
        // 📚 is F0 9F 93 9A: F0 is the Apple logo (U+F8FF) in Mac Roman, invisible in most fonts.
        assert_eq!(repair_line("\u{F8FF}üìö Tutorial").unwrap(), "📚 Tutorial");
        assert_eq!(repair_line("A ‚Üí B").unwrap(), "A → B");
        assert_eq!(repair_line("plain ascii").unwrap(), "plain ascii");
    }

    #[test]
    fn table_is_a_bijection() {
        let mut seen = std::collections::HashSet::new();
        for c in HIGH {
            assert!(!c.is_ascii());
            assert!(seen.insert(c), "{c:?} twice");
        }
    }

    #[test]
    fn rejects_text_that_is_not_mojibake() {
        assert!(repair_line("→").is_err());
    }
}
