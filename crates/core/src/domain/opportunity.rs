//! Scoring an opportunity against the spec, never against the previous offer; and remembering it: which spec it
//! was scored against, what the member decided, and what the offer turned out to be.

use chrono::{Days, Months, NaiveDate};

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

crate::domain::text_enum! {
    /// What the member did with an offer.
    pub enum Decision {
        Taken = "taken",
        Declined = "declined",
    }
}

/// The criteria a taken offer is asked about in hindsight: the first four (alignment is the spec's, not the job's).
pub const LIVED: usize = 4;

/// How long before the goalposts are suspected of moving under an offer: a non-negotiable or the vision changed in
/// this many days before the evaluation.
pub const GOALPOST_DAYS: i64 = 14;

/// The months after a taken offer when the bot asks whether it delivered.
pub const HINDSIGHT_MONTHS: [u32; 2] = [6, 12];

/// The local dates of a taken offer's 6- and 12-month questions ("31 Aug" + 6 months is the end of February).
pub fn hindsight_dates(decided_on: NaiveDate) -> [(u32, NaiveDate); 2] {
    HINDSIGHT_MONTHS.map(|m| {
        (
            m,
            decided_on
                .checked_add_months(Months::new(m))
                .unwrap_or(decided_on),
        )
    })
}

/// Which question an answer given on `today` is for: the 12-month one from two months before it is due, the
/// 6-month one from a month before; none earlier (there is nothing to tell yet).
pub fn hindsight_mark(decided_on: NaiveDate, today: NaiveDate) -> Result<u32, NaiveDate> {
    let [(six, at6), (twelve, at12)] = hindsight_dates(decided_on);
    if today >= at12 - Days::new(60) {
        Ok(twelve)
    } else if today >= at6 - Days::new(30) {
        Ok(six)
    } else {
        Err(at6)
    }
}

/// One must-have as an evaluation read it: passed, failed, or not assessed (it is in an earlier spec only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MustHave {
    pub text: String,
    pub passes: Option<bool>,
}

/// The same offer read against an earlier spec: the must-haves both specs share keep the member's pass or fail,
/// ones only the earlier spec had are not assessed; the verdict follows from those.
pub fn earlier_reading(
    scores: &[u8; 5],
    now_musts: &[String],
    failed: &[usize],
    earlier_tradeoffs: &str,
) -> (Vec<MustHave>, Verdict) {
    let musts: Vec<MustHave> = must_haves(earlier_tradeoffs)
        .into_iter()
        .map(|text| {
            let passes = now_musts
                .iter()
                .position(|m| m.eq_ignore_ascii_case(&text))
                .map(|i| !failed.contains(&(i + 1)));
            MustHave { text, passes }
        })
        .collect();
    let fails = musts.iter().filter(|m| m.passes == Some(false)).count();
    let v = verdict(scores, fails);
    (musts, v)
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

    #[test]
    fn earlier_readings_and_hindsight_dates() {
        let now = vec!["No relocation".to_owned(), "Remote".to_owned()];
        let (musts, v) = earlier_reading(
            &[4, 4, 3, 4, 4],
            &now,
            &[2],
            "no relocation\nFridays for family",
        );
        assert_eq!(musts[0].passes, Some(true));
        assert_eq!(musts[1].passes, None, "only the earlier spec had it");
        assert_eq!(
            v,
            Verdict::Closer,
            "the failed must-have is not in the earlier spec"
        );
        let (musts, v) = earlier_reading(&[4, 4, 3, 4, 4], &now, &[1], "No relocation");
        assert_eq!((musts[0].passes, v), (Some(false), Verdict::FailsMustHave));
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert_eq!(
            hindsight_dates(day(2027, 8, 31)),
            [(6, day(2028, 2, 29)), (12, day(2028, 8, 31))]
        );
        assert_eq!(
            hindsight_mark(day(2027, 1, 10), day(2027, 3, 1)),
            Err(day(2027, 7, 10))
        );
        assert_eq!(hindsight_mark(day(2027, 1, 10), day(2027, 6, 20)), Ok(6));
        assert_eq!(hindsight_mark(day(2027, 1, 10), day(2027, 11, 20)), Ok(12));
    }
}
