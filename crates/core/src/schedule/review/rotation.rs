//! Who reads whom: one reader each, turning every quarter, never the same pair two reviews running when the circle
//! is big enough.

use std::collections::BTreeSet;

use crate::domain::period::Period;

/// Each member gets one reviewer: everyone shifted by `s` places around the circle, with `s` turning each quarter
/// and chosen so no pair repeats the previous review's when the circle is big enough (three or more).
pub fn rotation(members: &[i64], period: Period, previous: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut ids = members.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let n = ids.len();
    if n < 2 {
        return Vec::new();
    }
    let quarter_index = match period {
        Period::Quarter { year, q } => {
            usize::try_from(year).unwrap_or(0) * 4 + usize::try_from(q).unwrap_or(0)
        }
        _ => 0,
    };
    let before: BTreeSet<(i64, i64)> = previous.iter().copied().collect();
    let pairs_for =
        |s: usize| -> Vec<(i64, i64)> { (0..n).map(|i| (ids[(i + s) % n], ids[i])).collect() };
    let first = 1 + quarter_index % (n - 1);
    (0..n - 1)
        .map(|k| 1 + (first - 1 + k) % (n - 1))
        .map(pairs_for)
        .find(|pairs| pairs.iter().all(|p| !before.contains(p)))
        .unwrap_or_else(|| pairs_for(first))
}
