//! Scoring an opportunity against the spec, never against the previous offer.

/// The weighted criteria, in the order asked; weights sum to 1.
pub const CRITERIA: [(&str, &str, f64); 5] = [
    ("learning", "Learning", 0.25),
    ("impact", "Impact", 0.20),
    ("compensation", "Compensation", 0.15),
    ("team", "Team and manager", 0.15),
    ("alignment", "Alignment with the 5-year vision", 0.25),
];

crate::domain::text_enum! {
    /// Where an opportunity points: toward the 5-year vision, away from it, or out (a must-have fails).
    pub enum Verdict {
        Closer = "closer",
        Further = "further",
        FailsMustHave = "fails_must_have",
    }
}

/// A score from 1 to 5.
pub fn score(name: &str, value: i64) -> Result<u8, String> {
    u8::try_from(value)
        .ok()
        .filter(|v| (1..=5).contains(v))
        .ok_or_else(|| format!("{name} takes a score from 1 to 5, not {value}."))
}

pub fn weighted(scores: &[u8; 5]) -> f64 {
    let total: f64 = CRITERIA
        .iter()
        .zip(scores)
        .map(|((_, _, w), s)| w * f64::from(*s))
        .sum();
    (total * 100.0).round() / 100.0
}

/// Any failed must-have decides alone; otherwise the direction is toward the vision when the role aligns with it
/// and is worth taking overall.
pub fn verdict(scores: &[u8; 5], failed_must_haves: usize) -> Verdict {
    if failed_must_haves > 0 {
        return Verdict::FailsMustHave;
    }
    if scores[4] >= 3 && weighted(scores) >= 3.0 {
        Verdict::Closer
    } else {
        Verdict::Further
    }
}

/// The must-haves are the spec's non-negotiables, one per line (or separated by semicolons).
pub fn must_haves(tradeoffs: &str) -> Vec<String> {
    tradeoffs
        .split(['\n', ';'])
        .map(|s| s.trim().trim_start_matches(['-', '*', '•']).trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .take(10)
        .collect()
}

/// "2, 3" -> [2, 3] (1-based numbers of failed must-haves); "none" or empty -> [].
pub fn parse_failed(text: &str, count: usize) -> Result<Vec<usize>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for part in text.split([',', ' ']).filter(|p| !p.is_empty()) {
        let n: usize = part
            .parse()
            .map_err(|_| format!("\"{part}\" is not a must-have number."))?;
        if n == 0 || n > count {
            return Err(format!(
                "There is no must-have number {n}; your spec lists {count}."
            ));
        }
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoring_and_verdicts() {
        assert!((CRITERIA.iter().map(|c| c.2).sum::<f64>() - 1.0).abs() < 1e-9);
        assert_eq!(weighted(&[5, 5, 5, 5, 5]), 5.0);
        assert_eq!(verdict(&[5, 5, 5, 5, 5], 1), Verdict::FailsMustHave);
        assert_eq!(verdict(&[4, 4, 3, 4, 4], 0), Verdict::Closer);
        assert_eq!(
            verdict(&[5, 5, 5, 5, 1], 0),
            Verdict::Further,
            "a great job in the wrong direction"
        );
        assert!(
            score("learning", 0).is_err()
                && score("learning", 6).is_err()
                && score("x", 3) == Ok(3)
        );
        assert_eq!(
            must_haves("No relocation\n- Fridays for family; mission matters"),
            vec!["No relocation", "Fridays for family", "mission matters"]
        );
        assert_eq!(parse_failed("2, 3", 3), Ok(vec![2, 3]));
        assert!(parse_failed("4", 3).is_err() && parse_failed("x", 3).is_err());
        assert_eq!(parse_failed("none", 3), Ok(vec![]));
    }
}
