//! Targeting (SPEC 7): the district's imported roster and assessment results through the pure
//! selection rule of `obc_core::design::target`.

use crate::{district_for, Result};
use obc_core::design::target::{self, Selection, TargetRules};
use obc_store::Store;

/// Selects a district's students by the rules (the only district when `district` is `None`).
pub async fn target(
    store: &Store,
    district: Option<&str>,
    rules: &TargetRules,
) -> Result<Selection> {
    let district = district_for(store, district).await?;
    let mut students: Vec<_> = store.students(&district).await?.into_values().collect();
    students.sort_by(|a, b| a.id.cmp(&b.id));
    let tests: Vec<_> = store
        .results_by_student(&district, &rules.subject, None)
        .await?
        .into_values()
        .flatten()
        .collect();
    Ok(target::select(rules, &students, &tests))
}
