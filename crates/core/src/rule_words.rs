//! The rules of a statement line in words, for people: the engine writes compact codes
//! (`tier:meets+school_adjust`, `district_fault`) that the CSV and JSON keep byte for byte; pages
//! and printouts show what they mean ("met the target (tier meets), +school adjustment").

use crate::statement::Statement;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The suffix the engine adds to a tier's code when the school adjustment moved its amount.
pub(crate) const SCHOOL_ADJUST_SUFFIX: &str = "+school_adjust";

/// A rule code's short label for a table cell ("met the target (tier meets), +school
/// adjustment"); [`rule_in_words`] adds what it pays. `tier_pays` is the share of the contingent
/// part the line's tier pays (before any school adjustment): a tier paying 100% or more "met the
/// target", as in `Totals::met_target`. An unknown code is returned as it is.
pub fn rule_label(rule: &str, tier_pays: Decimal) -> String {
    words(rule, tier_pays).0
}

/// What a rule code means, in words: its label and what it pays ("met the target (tier meets):
/// pays 100% of the contingent part, +school adjustment").
pub fn rule_in_words(rule: &str, tier_pays: Decimal) -> String {
    match words(rule, tier_pays) {
        (label, None) => label,
        (label, Some(meaning)) => format!("{label}: {meaning}"),
    }
}

/// The label and the meaning (`None` for an unknown code) of a rule code.
fn words(rule: &str, tier_pays: Decimal) -> (String, Option<String>) {
    let (code, school_adjusted) = match rule.strip_suffix(SCHOOL_ADJUST_SUFFIX) {
        Some(code) => (code, true),
        None => (rule, false),
    };
    let (label, meaning) = match code {
        "base" => ("base part due".to_string(), "the base part of this milestone, no contingent part yet"),
        "not_enrolled" => ("not enrolled yet".to_string(), "enrolled after this milestone's date: no base yet"),
        "no_attended_session" => ("no session attended yet".to_string(), "no attended session by this milestone's date: no base yet"),
        "district_fault" => ("district's responsibility".to_string(), "student not made available, or low attendance or a missing score the district answers for: contingent part paid in full"),
        "provider_fault" => ("provider's responsibility".to_string(), "too few sessions with the same tutor, too many cancellations, or low attendance or a missing score the provider answers for: contingent part not paid"),
        "excluded" => ("excluded".to_string(), "too few sessions offered, or low attendance or a missing score that excludes the student: base only"),
        _ => match code.strip_prefix("tier:") {
            Some(tier) => {
                let verdict = if tier_pays >= Decimal::ONE {
                    "met the target"
                } else {
                    "below the target"
                };
                let pays = format!(
                    "pays {}% of the contingent part",
                    (tier_pays * Decimal::ONE_HUNDRED).normalize()
                );
                let adjusted = if school_adjusted {
                    ", +school adjustment"
                } else {
                    ""
                };
                return (
                    format!("{verdict} (tier {tier}){adjusted}"),
                    Some(if school_adjusted {
                        format!("{pays}, moved by the school's median growth")
                    } else {
                        pays
                    }),
                );
            }
            None => return (rule.to_string(), None),
        },
    };
    // Only tiers are school-adjusted; a suffix on another code is shown, never dropped.
    let label = if school_adjusted {
        format!("{label}, +school adjustment")
    } else {
        label
    };
    (label, Some(meaning.to_string()))
}

/// Every rule of a statement (in the order of `Totals::by_rule`) with its words: the legend
/// printed next to a statement's table.
pub fn legend(statement: &Statement) -> Vec<(String, String)> {
    let mut tier_pays: BTreeMap<&str, Decimal> = BTreeMap::new();
    // Each rule's first line says what its tier pays: the walk stops once every rule of the
    // totals has one (a few lines, not the 100,000 of a state's statement).
    for line in &statement.lines {
        tier_pays
            .entry(line.rule.as_str())
            .or_insert(line.tier_pays);
        if tier_pays.len() >= statement.totals.by_rule.len() {
            break;
        }
    }
    statement
        .totals
        .by_rule
        .iter()
        .map(|r| {
            let pays = tier_pays.get(r.rule.as_str()).copied().unwrap_or_default();
            (r.rule.clone(), rule_in_words(&r.rule, pays))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_kit::{contract, dec, final_statement, kid};

    #[test]
    fn a_tier_paying_in_full_met_the_target_and_says_its_school_adjustment() {
        assert_eq!(
            rule_in_words("tier:meets+school_adjust", dec("1.00")),
            "met the target (tier meets), +school adjustment: pays 100% of the contingent part, moved by the school's median growth"
        );
        assert_eq!(
            rule_in_words("tier:exceeds", dec("1.25")),
            "met the target (tier exceeds): pays 125% of the contingent part"
        );
        assert_eq!(
            rule_in_words("tier:approaching", dec("0.5")),
            "below the target (tier approaching): pays 50% of the contingent part"
        );
        assert_eq!(
            rule_label("tier:meets+school_adjust", dec("1.00")),
            "met the target (tier meets), +school adjustment"
        );
    }

    #[test]
    fn fault_and_base_rules_say_who_answers_and_what_is_paid() {
        assert!(rule_in_words("district_fault", dec("1")).ends_with("contingent part paid in full"));
        assert!(rule_in_words("provider_fault", dec("0")).ends_with("contingent part not paid"));
        assert!(rule_in_words("excluded", dec("0")).ends_with("base only"));
        assert_eq!(rule_label("base", dec("0")), "base part due");
        assert!(rule_in_words("not_enrolled", dec("0")).contains("no base yet"));
        assert!(rule_in_words("no_attended_session", dec("0")).contains("no base yet"));
    }

    #[test]
    fn an_unknown_code_is_shown_as_it_is() {
        assert_eq!(rule_in_words("something_new", dec("0")), "something_new");
    }

    #[test]
    fn the_legend_follows_the_totals_and_takes_each_tiers_pay_from_its_lines() {
        let c = contract(&[]);
        // Growth / projection 1.4 meets (pays 1.00), 0.9 is approaching (pays 0.50).
        let kids = vec![
            kid("a").judged_with_growth(14),
            kid("b").judged_with_growth(9),
        ];
        let statement = final_statement(&c, kids);
        assert_eq!(
            legend(&statement),
            vec![
                (
                    "tier:approaching".to_string(),
                    "below the target (tier approaching): pays 50% of the contingent part"
                        .to_string()
                ),
                (
                    "tier:meets".to_string(),
                    "met the target (tier meets): pays 100% of the contingent part".to_string()
                ),
            ]
        );
    }
}
