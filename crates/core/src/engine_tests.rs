//! Unit tests of the rules of SPEC section 5, amounts computed by hand.
//!
//! Unless a test says otherwise the contract is the SPEC's example (`tests/contract_example.toml`)
//! without its `[[school_adjustment]]`: P = 1200.00, contingent_share = 0.40, so
//! B = 1200.00 x 0.60 = 720.00 and C = 1200.00 x 0.40 = 480.00; min_rate 0.70, min_offered 20,
//! responsible = district, min_same_tutor_rate 0.80, max_provider_cancel_rate 0.10,
//! missing_score = district, max_rapid_guessing 0.30, tiers exceeds >= 1.50 pays 1.25,
//! meets >= 1.00 pays 1.00, approaching >= 0.50 pays 0.50, below pays 0.00; milestones
//! enrollment 2024-10-15 (0.50), midyear 2025-01-31 (0.50), final 2025-06-30 (contingent).
use super::*;
use crate::statement::Line;
use crate::test_kit::*;
use SessionStatus::{Attended, DistrictCancelled, ProviderCancelled, StudentAbsent};

fn ratio(num: i64, den: i64) -> Option<Ratio> {
    Ratio::new(num, den)
}

fn request<'a>(
    contract: &'a Contract,
    milestone: &'a str,
    as_of: Option<&str>,
    prior: PriorPayments,
    kids: Vec<Kid>,
) -> StatementRequest<'a> {
    StatementRequest {
        contract,
        contract_version: 1,
        contract_hash: "test".into(),
        milestone,
        as_of: as_of.map(day),
        students: kids.into_iter().map(Kid::build).collect::<Vec<_>>().into(),
        prior,
    }
}

fn run(contract: &Contract, milestone: &str, kids: Vec<Kid>) -> Statement {
    compute(request(
        contract,
        milestone,
        None,
        PriorPayments::default(),
        kids,
    ))
    .unwrap()
}

fn run_with(
    contract: &Contract,
    milestone: &str,
    as_of: Option<&str>,
    prior: PriorPayments,
    kids: Vec<Kid>,
) -> Statement {
    compute(request(contract, milestone, as_of, prior, kids)).unwrap()
}

/// The final (contingent) statement of one student.
fn final_line(contract: &Contract, k: Kid) -> Line {
    run(contract, "final", vec![k]).lines.remove(0)
}

fn line<'s>(s: &'s Statement, id: &str) -> &'s Line {
    s.lines.iter().find(|l| l.student_id == id).unwrap()
}

fn prior(paid_before: &str, base_paid: &[(&str, &str)]) -> PriorPayments {
    PriorPayments {
        paid_before: dec(paid_before),
        base_paid: base_paid
            .iter()
            .map(|(id, a)| (id.to_string(), dec(a)))
            .collect(),
        corrections: Vec::new(),
        nte_difference: Decimal::ZERO,
    }
}

fn amounts(l: &Line) -> (String, String, String) {
    use crate::money::format_cents;
    (
        format_cents(l.base_amount),
        format_cents(l.contingent_amount),
        format_cents(l.total),
    )
}

fn money3(base: &str, contingent: &str, total: &str) -> (String, String, String) {
    (base.into(), contingent.into(), total.into())
}

// ---------------------------------------------------------------------------------------------
// 5.1 Counts and rates
// ---------------------------------------------------------------------------------------------

#[test]
fn counts_and_rates_over_the_counted_sessions() {
    let c = contract(&[]);
    let k = kid("s1")
        .sessions(6, Attended, "t1")
        .sessions(1, Attended, "t2")
        .sessions(3, StudentAbsent, "t1")
        .sessions(1, DistrictCancelled, "t1")
        .sessions(1, ProviderCancelled, "t1");
    let l = final_line(&c, k);
    assert_eq!(
        (
            l.planned,
            l.attended,
            l.student_absent,
            l.district_cancelled,
            l.provider_cancelled
        ),
        (12, 7, 3, 1, 1)
    );
    assert_eq!(l.minutes, 12 * 30);
    // attendance = attended / offered = 7 / (7 + 3)
    assert_eq!(l.attendance_rate, ratio(7, 10));
    // provider cancel = 1 / 12 planned = 0.0833
    assert_eq!(l.provider_cancel_rate, ratio(1, 12));
    assert_eq!(l.provider_cancel_rate.unwrap().display4(), "0.0833");
    // same tutor: t1 has 6 of the 7 attended (absences with t1 do not count)
    assert_eq!(l.same_tutor_rate, ratio(6, 7));
    assert_eq!(l.same_tutor_rate.unwrap().display4(), "0.8571");
    // availability = (12 - 1) / 12 = 0.9167
    assert_eq!(l.availability_rate, ratio(11, 12));
    assert_eq!(l.availability_rate.unwrap().display4(), "0.9167");
}

#[test]
fn a_rate_equal_to_its_threshold_passes() {
    // min_offered 10 so that 10 offered sessions are judged.
    let c = contract(&[("min_offered = 20", "min_offered = 10")]);
    // 7 of 10 attended = 0.70 = min_rate: not low; growth 10 / 10 = 1.00 -> meets.
    // C = 480.00 x 1.00 = 480.00
    let at = kid("s1")
        .attended(7)
        .sessions(3, StudentAbsent, "t1")
        .scores("200", "210", "10");
    let l = final_line(&c, at);
    assert_eq!(l.attendance_rate, ratio(7, 10));
    assert_eq!(l.rule, "tier:meets");
    assert_eq!(l.contingent_amount, dec("480.00"));
    // 6 of 10 = 0.60 < 0.70 with responsible = district: district_fault, C x 1.00 = 480.00.
    let below = kid("s1")
        .attended(6)
        .sessions(4, StudentAbsent, "t1")
        .scores("200", "210", "10");
    let l = final_line(&c, below);
    assert_eq!(l.rule, "district_fault");
    assert_eq!(l.contingent_clause, "attendance.responsible");
}

#[test]
fn every_rate_equal_to_its_threshold_passes() {
    let c = contract(&[("min_offered = 20", "min_offered = 5")]);
    // availability (10 - 3) / 10 = 0.70 = min_rate: no district fault;
    // same tutor 4 of 5 = 0.80 = min_same_tutor_rate: no provider fault;
    // provider cancel 1 / 10 = 0.10 = max_provider_cancel_rate: not strictly greater.
    // attendance 5 of 6 offered = 0.8333; growth 10 / 10 -> meets, 480.00.
    let k = kid("s1")
        .sessions(4, Attended, "t1")
        .sessions(1, Attended, "t2")
        .sessions(1, StudentAbsent, "t1")
        .sessions(3, DistrictCancelled, "t1")
        .sessions(1, ProviderCancelled, "t1")
        .scores("200", "210", "10");
    let l = final_line(&c, k);
    assert_eq!(l.availability_rate, ratio(7, 10));
    assert_eq!(l.same_tutor_rate, ratio(4, 5));
    assert_eq!(l.provider_cancel_rate, ratio(1, 10));
    assert_eq!(l.rule, "tier:meets");
    assert_eq!(l.contingent_amount, dec("480.00"));
}

#[test]
fn an_undefined_rate_fails_no_threshold() {
    // min_offered 0: nobody is excluded for too few sessions.
    let c = contract(&[("min_offered = 20", "min_offered = 0")]);
    // No session at all: planned = offered = attended = 0, every rate undefined.
    // Growth 15 / 10 = 1.50 -> exceeds, C x 1.25 = 480.00 x 1.25 = 600.00. No attended session:
    // base due 0.
    let l = final_line(&c, kid("s1").scores("200", "215", "10"));
    assert_eq!(l.planned, 0);
    assert_eq!(
        (
            l.attendance_rate,
            l.same_tutor_rate,
            l.provider_cancel_rate,
            l.availability_rate
        ),
        (None, None, None, None)
    );
    assert_eq!(l.rule, "tier:exceeds");
    assert_eq!(amounts(&l), money3("0.00", "600.00", "600.00"));
    // Only student_absent sessions: same-tutor rate 0/0 undefined, attendance 0/3 = 0 < 0.70
    // with offered 3 >= min_offered 0 and responsible = district -> district_fault 480.00.
    let l = final_line(
        &c,
        kid("s1")
            .sessions(3, StudentAbsent, "t1")
            .scores("200", "215", "10"),
    );
    assert_eq!(l.same_tutor_rate, None);
    assert_eq!(l.rule, "district_fault");
}

// ---------------------------------------------------------------------------------------------
// 5.4.1 district_fault
// ---------------------------------------------------------------------------------------------

#[test]
fn district_fault_via_availability_needs_no_minimum_count() {
    // missing_score = provider so that only availability can make it the district's fault.
    let c = contract(&[(
        "missing_score = \"district\"",
        "missing_score = \"provider\"",
    )]);
    // 5 planned, 5 district_cancelled: availability 0 / 5 = 0 < 0.70, though offered 0 < 20.
    // C x 1.00 = 480.00; no attended session: base 0.00.
    let l = final_line(&c, kid("s1").sessions(5, DistrictCancelled, "t1"));
    assert_eq!(l.availability_rate, ratio(0, 5));
    assert_eq!(l.rule, "district_fault");
    assert_eq!(l.contingent_clause, "attendance.min_rate");
    assert_eq!(l.tier_pays, dec("1.00"));
    assert_eq!(amounts(&l), money3("0.00", "480.00", "480.00"));
    // A single planned session, district_cancelled: 0 / 1 < 0.70 also pays.
    let l = final_line(&c, kid("s1").sessions(1, DistrictCancelled, "t1"));
    assert_eq!(l.rule, "district_fault");
    assert_eq!(l.contingent_amount, dec("480.00"));
}

#[test]
fn district_fault_via_responsible_district_when_judged() {
    let c = contract(&[]);
    // 13 attended + 7 absent = 20 offered >= 20; 13/20 = 0.65 < 0.70 -> district_fault even with
    // poor growth (2/10 = 0.20, "below"). C x 1.00 = 480.00; base B = 720.00 at final (nothing
    // paid before): total 1200.00.
    let k = kid("s1")
        .attended(13)
        .sessions(7, StudentAbsent, "t1")
        .scores("200", "202", "10");
    let l = final_line(&c, k);
    assert_eq!(l.rule, "district_fault");
    assert_eq!(l.contingent_clause, "attendance.responsible");
    assert_eq!(amounts(&l), money3("720.00", "480.00", "1200.00"));
    // 13 + 6 = 19 offered < 20: attendance is not judged; excluded for too few sessions.
    let k = kid("s1")
        .attended(13)
        .sessions(6, StudentAbsent, "t1")
        .scores("200", "202", "10");
    let l = final_line(&c, k);
    assert_eq!(l.rule, "excluded");
    assert_eq!(l.contingent_clause, "attendance.min_offered");
    assert_eq!(l.contingent_amount, dec("0.00"));
}

#[test]
fn district_fault_via_missing_score() {
    let c = contract(&[]);
    // No Spring test, missing_score = district: C x 1.00 = 480.00.
    let l = final_line(
        &c,
        kid("s1")
            .attended(20)
            .test(projected(row("Fall", "2024-09-05", "200"), "10")),
    );
    assert_eq!(l.outcome, None);
    assert_eq!(l.measure, None);
    assert_eq!(l.rule, "district_fault");
    assert_eq!(l.contingent_clause, "outcome.missing_score");
    assert_eq!(l.contingent_amount, dec("480.00"));
    assert!(l.reason.contains("no valid Spring score"), "{}", l.reason);
    // No Fall test either way.
    let l = final_line(
        &c,
        kid("s1")
            .attended(20)
            .test(row("Spring", "2025-05-01", "210")),
    );
    assert_eq!(l.rule, "district_fault");
    assert!(l.reason.contains("no valid Fall score"), "{}", l.reason);
}

// ---------------------------------------------------------------------------------------------
// 5.4.2 provider_fault
// ---------------------------------------------------------------------------------------------

#[test]
fn provider_fault_via_same_tutor_rate() {
    let c = contract(&[]);
    // t1 15 of 20 attended = 0.75 < 0.80 -> provider_fault, pays 0; growth would be meets.
    let k = kid("s1")
        .sessions(15, Attended, "t1")
        .sessions(5, Attended, "t2")
        .scores("200", "210", "10");
    let l = final_line(&c, k);
    assert_eq!(l.rule, "provider_fault");
    assert_eq!(l.contingent_clause, "provider_duties.min_same_tutor_rate");
    // base B = 720.00, contingent 0: total 720.00
    assert_eq!(amounts(&l), money3("720.00", "0.00", "720.00"));
    // 16 of 20 = 0.80: passes -> meets, 480.00
    let k = kid("s1")
        .sessions(16, Attended, "t1")
        .sessions(4, Attended, "t2")
        .scores("200", "210", "10");
    assert_eq!(final_line(&c, k).rule, "tier:meets");
}

#[test]
fn provider_fault_via_cancel_rate_strictly_greater() {
    let c = contract(&[("min_offered = 20", "min_offered = 18")]);
    // 18 attended + 2 provider_cancelled: 2 / 20 = 0.10, not > 0.10 -> meets, 480.00.
    let k = kid("s1")
        .attended(18)
        .sessions(2, ProviderCancelled, "t1")
        .scores("200", "210", "10");
    let l = final_line(&c, k);
    assert_eq!(l.provider_cancel_rate, ratio(1, 10));
    assert_eq!(l.rule, "tier:meets");
    assert_eq!(l.contingent_amount, dec("480.00"));
    // 18 + 3: 3 / 21 = 0.1429 > 0.10 -> provider_fault, 0.00.
    let k = kid("s1")
        .attended(18)
        .sessions(3, ProviderCancelled, "t1")
        .scores("200", "210", "10");
    let l = final_line(&c, k);
    assert_eq!(l.rule, "provider_fault");
    assert_eq!(
        l.contingent_clause,
        "provider_duties.max_provider_cancel_rate"
    );
    assert_eq!(l.contingent_amount, dec("0.00"));
}

#[test]
fn provider_fault_via_responsible_provider() {
    let c = contract(&[("responsible = \"district\"", "responsible = \"provider\"")]);
    // 13 / 20 = 0.65 < 0.70, judged: provider_fault, 0.00 (growth 1.5 would be exceeds).
    let k = kid("s1")
        .attended(13)
        .sessions(7, StudentAbsent, "t1")
        .scores("200", "215", "10");
    let l = final_line(&c, k);
    assert_eq!(l.rule, "provider_fault");
    assert_eq!(l.contingent_clause, "attendance.responsible");
    assert_eq!(l.contingent_amount, dec("0.00"));
    // 14 / 20 = 0.70: passes -> exceeds, 480.00 x 1.25 = 600.00
    let k = kid("s1")
        .attended(14)
        .sessions(6, StudentAbsent, "t1")
        .scores("200", "215", "10");
    let l = final_line(&c, k);
    assert_eq!(l.rule, "tier:exceeds");
    assert_eq!(l.contingent_amount, dec("600.00"));
}

#[test]
fn provider_fault_via_missing_score_provider() {
    let c = contract(&[(
        "missing_score = \"district\"",
        "missing_score = \"provider\"",
    )]);
    let l = final_line(
        &c,
        kid("s1")
            .attended(20)
            .test(projected(row("Fall", "2024-09-05", "200"), "10")),
    );
    assert_eq!(l.rule, "provider_fault");
    assert_eq!(l.contingent_clause, "outcome.missing_score");
    assert_eq!(l.contingent_amount, dec("0.00"));
}

#[test]
fn district_fault_comes_before_provider_fault() {
    let c = contract(&[]);
    // availability 10 / 20 = 0.50 < 0.70 (district) and same tutor 5 / 10 = 0.50 < 0.80
    // (provider): the first rule decides -> district_fault, 480.00.
    let k = kid("s1")
        .sessions(5, Attended, "t1")
        .sessions(5, Attended, "t2")
        .sessions(10, DistrictCancelled, "t1")
        .scores("200", "210", "10");
    let l = final_line(&c, k);
    assert_eq!(l.rule, "district_fault");
    assert_eq!(l.contingent_amount, dec("480.00"));
    // missing score (district) and provider cancel 5 / 25 = 0.20 > 0.10: district_fault.
    let k = kid("s1").attended(20).sessions(5, ProviderCancelled, "t1");
    let l = final_line(&c, k);
    assert_eq!(l.rule, "district_fault");
    assert_eq!(l.contingent_clause, "outcome.missing_score");
    // provider fault before excluded: too few sessions (10 < 20) and same tutor 5/10.
    let k = kid("s1")
        .sessions(5, Attended, "t1")
        .sessions(5, Attended, "t2")
        .scores("200", "210", "10");
    assert_eq!(final_line(&c, k).rule, "provider_fault");
}

// ---------------------------------------------------------------------------------------------
// 5.4.3 excluded
// ---------------------------------------------------------------------------------------------

#[test]
fn excluded_via_responsible_exclude() {
    let c = contract(&[("responsible = \"district\"", "responsible = \"exclude\"")]);
    // 13 / 20 = 0.65 < 0.70: excluded, contingent 0, base B = 720.00 kept.
    let k = kid("s1")
        .attended(13)
        .sessions(7, StudentAbsent, "t1")
        .scores("200", "215", "10");
    let l = final_line(&c, k);
    assert_eq!(l.rule, "excluded");
    assert_eq!(l.contingent_clause, "attendance.responsible");
    assert_eq!(amounts(&l), money3("720.00", "0.00", "720.00"));
}

#[test]
fn excluded_via_missing_score_exclude() {
    let c = contract(&[(
        "missing_score = \"district\"",
        "missing_score = \"exclude\"",
    )]);
    let l = final_line(
        &c,
        kid("s1")
            .attended(20)
            .test(row("Spring", "2025-05-01", "210")),
    );
    assert_eq!(l.rule, "excluded");
    assert_eq!(l.contingent_clause, "outcome.missing_score");
    assert_eq!(amounts(&l), money3("720.00", "0.00", "720.00"));
}

#[test]
fn excluded_when_offered_below_min_offered() {
    let c = contract(&[]);
    // 19 attended: 19 offered < 20 -> excluded though growth 1.5 would be exceeds.
    let l = final_line(&c, kid("s1").attended(19).scores("200", "215", "10"));
    assert_eq!(l.rule, "excluded");
    assert_eq!(l.contingent_clause, "attendance.min_offered");
    assert_eq!(amounts(&l), money3("720.00", "0.00", "720.00"));
    // district_cancelled and provider_cancelled sessions are not offered: 19 + 1 + 1 planned.
    let k = kid("s1")
        .attended(19)
        .sessions(1, DistrictCancelled, "t1")
        .sessions(1, ProviderCancelled, "t1")
        .scores("200", "215", "10");
    assert_eq!(final_line(&c, k).rule, "excluded");
}

// ---------------------------------------------------------------------------------------------
// 5.4.4 tiers and measures
// ---------------------------------------------------------------------------------------------

#[test]
fn each_tier_first_match_from_the_top_and_equal_to_min_gets_the_tier() {
    let c = contract(&[]);
    // growth / projection 10, C = 480.00:
    let cases = [
        ("a", 16, "tier:exceeds", "600.00"), // 1.6 >= 1.50: 480 x 1.25 = 600.00
        ("b", 15, "tier:exceeds", "600.00"), // 1.5 = 1.50
        ("c", 14, "tier:meets", "480.00"),   // 1.4: 480 x 1.00
        ("d", 10, "tier:meets", "480.00"),   // 1.0 = 1.00
        ("e", 9, "tier:approaching", "240.00"), // 0.9: 480 x 0.50
        ("f", 5, "tier:approaching", "240.00"), // 0.5 = 0.50
        ("g", 4, "tier:below", "0.00"),      // 0.4
        ("h", -10, "tier:below", "0.00"),    // -1.0: -inf catches everything
    ];
    let kids = cases
        .iter()
        .map(|(id, g, _, _)| kid(id).judged_with_growth(*g))
        .collect();
    let s = run(&c, "final", kids);
    for (id, growth, rule, amount) in cases {
        let l = line(&s, id);
        assert_eq!(l.growth_vs_projected, ratio(growth, 10), "{id}");
        assert_eq!(l.measure, l.growth_vs_projected, "{id}");
        assert_eq!(l.rule, rule, "{id}");
        assert_eq!(l.contingent_amount, dec(amount), "{id}");
        assert_eq!(
            l.contingent_clause,
            format!("rate_card.{}", &rule[5..]),
            "{id}"
        );
    }
    // Growth 13 / 9 = 1.4444 is below 1.50 exactly (no rounding to the display): meets.
    let l = final_line(&c, kid("x").attended(20).scores("200", "213", "9"));
    assert_eq!(l.rule, "tier:meets");
}

#[test]
fn measure_met_projected() {
    let c = contract(&[(
        "measure = \"growth_vs_projected\"",
        "measure = \"met_projected\"",
    )]);
    // observed 10 >= projected 10 -> 1 -> meets (1 >= 1.00), 480.00
    let l = final_line(&c, kid("a").judged_with_growth(10));
    assert_eq!(l.measure, ratio(1, 1));
    assert_eq!(l.rule, "tier:meets");
    assert_eq!(l.contingent_amount, dec("480.00"));
    // observed 9 < 10 -> 0 -> below, 0.00
    let l = final_line(&c, kid("a").judged_with_growth(9));
    assert_eq!(l.measure, ratio(0, 1));
    assert_eq!(l.rule, "tier:below");
    // no projection anywhere (grade 9 has no table entry): missing -> district_fault
    let k = kid("a")
        .grade("9")
        .attended(20)
        .test(row("Fall", "2024-09-05", "200"))
        .test(row("Spring", "2025-05-01", "230"));
    assert_eq!(final_line(&c, k).rule, "district_fault");
}

#[test]
fn measure_rit_gain() {
    let c = contract(&[
        (
            "measure = \"growth_vs_projected\"",
            "measure = \"rit_gain\"",
        ),
        ("min = \"1.50\"", "min = \"15\""),
        ("min = \"1.00\"", "min = \"10\""),
        ("min = \"0.50\"", "min = \"5\""),
    ]);
    // 212 - 200 = 12 points: meets (10 <= 12 < 15), 480.00; no projection needed.
    let k = kid("a")
        .grade("9")
        .attended(20)
        .test(row("Fall", "2024-09-05", "200"))
        .test(row("Spring", "2025-05-01", "212"));
    let l = final_line(&c, k);
    assert_eq!(l.observed_growth, Some(dec("12")));
    assert_eq!(l.projected_growth, None);
    assert_eq!(l.growth_vs_projected, None);
    assert_eq!(l.measure, ratio(12, 1));
    assert_eq!(l.rule, "tier:meets");
    assert_eq!(l.contingent_amount, dec("480.00"));
    // 15 points exactly: exceeds, 600.00
    let l = final_line(&c, kid("a").judged_with_growth(15));
    assert_eq!(l.rule, "tier:exceeds");
}

#[test]
fn measure_conditional_growth_percentile_from_the_outcome_row() {
    let c = contract(&[
        (
            "measure = \"growth_vs_projected\"",
            "measure = \"conditional_growth_percentile\"",
        ),
        ("min = \"1.50\"", "min = \"75\""),
        ("min = \"1.00\"", "min = \"50\""),
        ("min = \"0.50\"", "min = \"25\""),
    ]);
    // The outcome row's CGP 50 = meets' min: meets, 480.00.
    let mut spring = row("Spring", "2025-05-01", "205");
    spring.growth[FS].conditional_growth_percentile = Some(dec("50"));
    let l = final_line(
        &c,
        kid("a")
            .attended(20)
            .test(row("Fall", "2024-09-05", "200"))
            .test(spring),
    );
    assert_eq!(l.measure, ratio(50, 1));
    assert_eq!(l.rule, "tier:meets");
    assert_eq!(l.contingent_amount, dec("480.00"));
    // A CGP on the baseline row only does not count: missing -> district_fault.
    let mut fall = row("Fall", "2024-09-05", "200");
    fall.growth[FS].conditional_growth_percentile = Some(dec("90"));
    let l = final_line(
        &c,
        kid("a")
            .attended(20)
            .test(fall)
            .test(row("Spring", "2025-05-01", "230")),
    );
    assert_eq!(l.measure, None);
    assert_eq!(l.rule, "district_fault");
}

#[test]
fn measure_score_needs_a_baseline_too() {
    let c = contract(&[
        ("measure = \"growth_vs_projected\"", "measure = \"score\""),
        ("min = \"1.50\"", "min = \"250\""),
        ("min = \"1.00\"", "min = \"230\""),
        ("min = \"0.50\"", "min = \"210\""),
    ]);
    // Outcome score 235: meets (230 <= 235 < 250), 480.00
    let l = final_line(&c, kid("a").attended(20).scores("200", "235", "10"));
    assert_eq!(l.measure, ratio(235, 1));
    assert_eq!(l.rule, "tier:meets");
    // "Every measure needs both a baseline and an outcome score": no Fall -> district_fault.
    let l = final_line(
        &c,
        kid("a")
            .attended(20)
            .test(row("Spring", "2025-05-01", "235")),
    );
    assert_eq!(l.measure, None);
    assert_eq!(l.rule, "district_fault");
}

#[test]
fn a_projection_at_or_below_zero_makes_growth_vs_projected_missing() {
    let c = contract(&[(
        "missing_score = \"district\"",
        "missing_score = \"provider\"",
    )]);
    for p in ["0", "-2"] {
        let l = final_line(&c, kid("a").attended(20).scores("200", "210", p));
        assert_eq!(l.projected_growth, Some(dec(p)));
        assert_eq!(l.observed_growth, Some(dec("10")));
        assert_eq!(l.growth_vs_projected, None, "{p}");
        assert_eq!(l.rule, "provider_fault", "{p}");
        assert!(l.reason.contains("cannot be computed"), "{}", l.reason);
    }
    // met_projected is not growth_vs_projected: a 0 projection still gives 10 >= 0 -> 1.
    let c = contract(&[(
        "measure = \"growth_vs_projected\"",
        "measure = \"met_projected\"",
    )]);
    let l = final_line(&c, kid("a").attended(20).scores("200", "210", "0"));
    assert_eq!(l.rule, "tier:meets");
}

// ---------------------------------------------------------------------------------------------
// 5.2 Score selection
// ---------------------------------------------------------------------------------------------

fn at(mut t: AssessmentResult, hh: u32) -> AssessmentResult {
    t.start_seconds = hh * 3600;
    t
}

#[test]
fn the_most_recent_valid_test_counts_by_date_then_time_then_later_row() {
    let c = contract(&[]);
    let spring = row("Spring", "2025-05-01", "210");
    // by date: the 2024-09-20 test (195) is more recent than 2024-09-05 (200), whatever the order
    let k = kid("a")
        .test(row("Fall", "2024-09-20", "195"))
        .test(row("Fall", "2024-09-05", "200"))
        .test(spring.clone());
    assert_eq!(final_line(&c, k).baseline, Some(dec("195")));
    // same date: the later start time wins (10:00 over 09:00)
    let k = kid("a")
        .test(at(row("Fall", "2024-09-05", "199"), 10))
        .test(at(row("Fall", "2024-09-05", "201"), 9))
        .test(spring.clone());
    assert_eq!(final_line(&c, k).baseline, Some(dec("199")));
    // same date and time: the later row wins
    let k = kid("a")
        .test(row("Fall", "2024-09-05", "198"))
        .test(row("Fall", "2024-09-05", "197"))
        .test(spring.clone());
    assert_eq!(final_line(&c, k).baseline, Some(dec("197")));
    let k = kid("a")
        .test(row("Fall", "2024-09-05", "197"))
        .test(row("Fall", "2024-09-05", "198"))
        .test(spring.clone());
    assert_eq!(final_line(&c, k).baseline, Some(dec("198")));
    // a test with no score is not valid: the earlier one counts
    let mut blank = row("Fall", "2024-09-20", "0");
    blank.score = None;
    let k = kid("a")
        .test(row("Fall", "2024-09-05", "200"))
        .test(blank)
        .test(spring);
    assert_eq!(final_line(&c, k).baseline, Some(dec("200")));
}

#[test]
fn rapid_guessing_at_the_maximum_invalidates_and_the_previous_valid_test_counts() {
    let c = contract(&[]);
    let mut guessed = row("Fall", "2024-09-20", "180");
    guessed.rapid_guessing_pct = Some(dec("30")); // 30% >= 0.30 x 100: invalid
    let k = kid("a")
        .attended(20)
        .test(projected(row("Fall", "2024-09-05", "200"), "10"))
        .test(guessed.clone())
        .test(row("Spring", "2025-05-01", "210"));
    let l = final_line(&c, k);
    // baseline 200 (not 180): growth 10 / 10 -> meets
    assert_eq!(l.baseline, Some(dec("200")));
    assert_eq!(l.rule, "tier:meets");
    assert_eq!(l.notes.len(), 1, "{:?}", l.notes);
    assert!(
        l.notes[0].contains("Fall test of 2024-09-20 invalid: rapid guessing 30% >= 30%"),
        "{:?}",
        l.notes
    );
    // 29.9% is valid: the later test counts (180)
    guessed.rapid_guessing_pct = Some(dec("29.9"));
    let k = kid("a")
        .test(row("Fall", "2024-09-05", "200"))
        .test(guessed.clone());
    assert_eq!(final_line(&c, k).baseline, Some(dec("180")));
    // no max_rapid_guessing in the contract: the column is ignored
    let c = contract(&[("max_rapid_guessing = \"0.30\"", "")]);
    guessed.rapid_guessing_pct = Some(dec("95"));
    let l = final_line(
        &c,
        kid("a")
            .test(row("Fall", "2024-09-05", "200"))
            .test(guessed),
    );
    assert_eq!(l.baseline, Some(dec("180")));
    assert!(l.notes.is_empty());
}

#[test]
fn growth_measure_false_is_invalid_and_named() {
    let c = contract(&[]);
    let mut eoc = row("Spring", "2025-05-20", "250");
    eoc.growth_measure = false;
    let k = kid("a")
        .attended(20)
        .test(projected(row("Fall", "2024-09-05", "200"), "10"))
        .test(row("Spring", "2025-05-01", "210"))
        .test(eoc);
    let l = final_line(&c, k);
    assert_eq!(l.outcome, Some(dec("210")));
    assert_eq!(l.rule, "tier:meets");
    assert!(
        l.notes[0].contains("Spring test of 2025-05-20 invalid")
            && l.notes[0].contains("GrowthMeasureYN"),
        "{:?}",
        l.notes
    );
    // The only Spring test invalid: missing -> district_fault.
    let mut only = row("Spring", "2025-05-01", "250");
    only.growth_measure = false;
    let l = final_line(
        &c,
        kid("a")
            .attended(20)
            .test(projected(row("Fall", "2024-09-05", "200"), "10"))
            .test(only),
    );
    assert_eq!(l.outcome, None);
    assert_eq!(l.rule, "district_fault");
}

#[test]
fn tests_after_the_statement_date_and_of_other_subjects_are_ignored() {
    let c = contract(&[]);
    // Spring dated 2025-07-01, after the final milestone (2025-06-30): ignored, no outcome.
    let k = kid("a")
        .attended(20)
        .test(projected(row("Fall", "2024-09-05", "200"), "10"))
        .test(row("Spring", "2025-07-01", "210"));
    assert_eq!(final_line(&c, k).outcome, None);
    // With --as-of 2025-04-30 a Spring test of 2025-05-01 is ignored too.
    let s = run_with(
        &c,
        "final",
        Some("2025-04-30"),
        PriorPayments::default(),
        vec![kid("a").attended(20).scores("200", "210", "10")],
    );
    assert_eq!(s.statement_date, "2025-04-30");
    assert_eq!(s.lines[0].outcome, None);
    assert_eq!(s.lines[0].rule, "district_fault");
    // A Reading test, another assessment or another school year does not count.
    let mut reading = row("Spring", "2025-05-01", "230");
    reading.subject = "Reading".into();
    let mut state = row("Spring", "2025-05-01", "231");
    state.assessment = "STAAR".into();
    let mut last_year = row("Spring", "2024-05-01", "232");
    last_year.term_name = "Spring 2023-2024".into();
    let k = kid("a")
        .attended(20)
        .scores("200", "210", "10")
        .test(reading)
        .test(state)
        .test(last_year);
    let l = final_line(&c, k);
    assert_eq!(l.outcome, Some(dec("210")));
    assert_eq!(l.rule, "tier:meets");
}

#[test]
fn projected_growth_from_baseline_row_else_outcome_row_else_contract_table() {
    let c = contract(&[]);
    let fall = || row("Fall", "2024-09-05", "200");
    let spring = || row("Spring", "2025-05-01", "212");
    // both rows: the baseline row's 10 wins over the outcome row's 20 -> 12 / 10 = 1.2
    let both = kid("a")
        .attended(20)
        .test(projected(fall(), "10"))
        .test(projected(spring(), "20"));
    // outcome row only: 20 -> 12 / 20 = 0.6
    let outcome_only = kid("b")
        .attended(20)
        .test(fall())
        .test(projected(spring(), "20"));
    // neither, grade "06" normalised to 6: the contract's 7.7 -> 12 / 7.7 = 1.5584 -> exceeds
    let table = kid("c")
        .grade("06")
        .attended(20)
        .test(fall())
        .test(spring());
    // neither, grade 8 not in the table: missing
    let none = kid("d").grade("8").attended(20).test(fall()).test(spring());
    let s = run(&c, "final", vec![both, outcome_only, table, none]);
    assert_eq!(line(&s, "a").projected_growth, Some(dec("10")));
    assert_eq!(line(&s, "a").rule, "tier:meets");
    assert_eq!(line(&s, "b").projected_growth, Some(dec("20")));
    assert_eq!(line(&s, "b").rule, "tier:approaching");
    assert_eq!(line(&s, "c").projected_growth, Some(dec("7.7")));
    assert_eq!(
        line(&s, "c").growth_vs_projected,
        Ratio::new(dec("12"), dec("7.7"))
    );
    assert_eq!(line(&s, "c").rule, "tier:exceeds");
    assert_eq!(line(&s, "d").projected_growth, None);
    assert_eq!(line(&s, "d").rule, "district_fault");
}

#[test]
fn a_different_observed_growth_in_the_file_is_a_data_warning() {
    let c = contract(&[]);
    let mut spring = row("Spring", "2025-05-01", "210");
    spring.growth[FS].observed = Some(dec("12"));
    let k = kid("a")
        .attended(20)
        .test(projected(row("Fall", "2024-09-05", "200"), "10"))
        .test(spring);
    let l = final_line(&c, k);
    // obc computes 210 - 200 = 10, and pays on it
    assert_eq!(l.observed_growth, Some(dec("10")));
    assert_eq!(l.rule, "tier:meets");
    assert_eq!(l.notes.len(), 1);
    assert!(
        l.notes[0].contains("data warning")
            && l.notes[0].contains("FallToSpringObservedGrowth is 12"),
        "{:?}",
        l.notes
    );
    // an equal value is no warning
    let mut spring = row("Spring", "2025-05-01", "210");
    spring.growth[FS].observed = Some(dec("10.0"));
    let k = kid("a")
        .attended(20)
        .test(projected(row("Fall", "2024-09-05", "200"), "10"))
        .test(spring);
    assert!(final_line(&c, k).notes.is_empty());
}

#[test]
fn a_counted_test_of_another_norms_edition_is_a_data_warning() {
    let with_norms = |norms: Option<&str>| {
        let mut t = projected(row("Fall", "2024-09-05", "200"), "10");
        t.norms = norms.map(String::from);
        kid("a")
            .attended(20)
            .test(t)
            .test(row("Spring", "2025-05-01", "210"))
    };
    let pinned = contract(&[(
        "max_rapid_guessing = \"0.30\"",
        "max_rapid_guessing = \"0.30\"\nnorms = \"2020\"",
    )]);
    assert_eq!(pinned.outcome.norms.as_deref(), Some("2020"));
    let l = final_line(&pinned, with_norms(Some("2025")));
    assert_eq!(
        l.notes,
        ["data warning: the Fall test of 2024-09-05 uses NWEA norms 2025, the contract expects 2020"]
    );
    // the warning changes nothing else
    assert_eq!(l.rule, "tier:meets");
    // the pinned edition, or a test that names none, is no warning
    assert!(final_line(&pinned, with_norms(Some("2020")))
        .notes
        .is_empty());
    assert!(final_line(&pinned, with_norms(None)).notes.is_empty());
    // without `outcome.norms` the edition is not looked at
    assert!(final_line(&contract(&[]), with_norms(Some("2025")))
        .notes
        .is_empty());
}

// ---------------------------------------------------------------------------------------------
// Session filter
// ---------------------------------------------------------------------------------------------

#[test]
fn sessions_outside_the_period_after_the_statement_date_or_outside_the_enrollment_do_not_count() {
    let c = contract(&[]);
    // enrolled before the period (2024-08-12 .. 2025-05-30): a session on 2024-08-05 is outside
    // the period; one on 2025-06-05 after its end.
    let k = kid("a")
        .enrolled("2024-08-01", None)
        .session_on("2024-08-05", Attended, "t1")
        .session_on("2024-08-12", Attended, "t1")
        .session_on("2025-05-30", Attended, "t1")
        .session_on("2025-06-05", Attended, "t1");
    let l = final_line(&c, k);
    assert_eq!(l.planned, 2);
    // at midyear (2025-01-31) a session of 2025-02-10 is after the statement date
    let k = kid("a")
        .session_on("2025-01-31", Attended, "t1")
        .session_on("2025-02-10", Attended, "t1");
    let s = run(&c, "midyear", vec![k]);
    assert_eq!(s.lines[0].planned, 1);
    // enrollment 2024-09-01 .. 2024-12-31, inclusive
    let k = kid("a")
        .enrolled("2024-09-01", Some("2024-12-31"))
        .session_on("2024-08-31", Attended, "t1")
        .session_on("2024-09-01", StudentAbsent, "t1")
        .session_on("2024-12-31", ProviderCancelled, "t1")
        .session_on("2025-01-01", Attended, "t1");
    let l = final_line(&c, k);
    assert_eq!(
        (
            l.planned,
            l.attended,
            l.student_absent,
            l.provider_cancelled
        ),
        (2, 0, 1, 1)
    );
}

// ---------------------------------------------------------------------------------------------
// 5.3 Base part
// ---------------------------------------------------------------------------------------------

#[test]
fn base_follows_the_milestone_shares_rounded_half_to_even() {
    let c = contract(&[("\"1200.00\"", "\"1200.05\"")]);
    // B = 1200.05 x 0.60 = 720.03 (exact: 720.030)
    assert_eq!(c.base_part(), dec("720.03"));
    // enrollment: 720.03 x 0.50 = 360.015 -> 360.02 (half to even)
    let s = run(&c, "enrollment", vec![kid("a").attended(3)]);
    assert_eq!(s.lines[0].rule, "base");
    assert_eq!(s.lines[0].base_clause, "milestone.enrollment");
    assert_eq!(s.lines[0].contingent_clause, "");
    assert_eq!(amounts(&s.lines[0]), money3("360.02", "0.00", "360.02"));
    // midyear: due 720.03 x 1.00 = 720.03, paid 360.02 -> 360.01
    let s = run_with(
        &c,
        "midyear",
        None,
        prior("360.02", &[("a", "360.02")]),
        vec![kid("a").attended(3)],
    );
    assert_eq!(s.lines[0].base_amount, dec("360.01"));
    // final: due B = 720.03, paid 720.03 -> 0.00
    let s = run_with(
        &c,
        "final",
        None,
        prior("720.03", &[("a", "720.03")]),
        vec![kid("a").attended(3)],
    );
    assert_eq!(s.lines[0].base_amount, dec("0.00"));
}

#[test]
fn base_rules_not_enrolled_and_no_attended_session() {
    let c = contract(&[]);
    let late = kid("late")
        .enrolled("2024-11-01", None)
        .from("2024-11-04")
        .attended(3);
    let absent = kid("absent").sessions(3, StudentAbsent, "t1");
    let after = kid("after").from("2024-10-16").attended(3);
    let on_the_day = kid("on").session_on("2024-10-15", Attended, "t1");
    let s = run(&c, "enrollment", vec![late, absent, after, on_the_day]);
    // started 2024-11-01, after 2024-10-15
    assert_eq!(line(&s, "late").rule, "not_enrolled");
    assert_eq!(line(&s, "late").base_amount, dec("0.00"));
    assert!(line(&s, "late")
        .reason
        .contains("after the enrollment milestone"));
    assert_eq!(line(&s, "absent").rule, "no_attended_session");
    assert_eq!(line(&s, "absent").total, dec("0.00"));
    // attended only after the milestone's date: the enrollment statement is dated on it
    assert_eq!(line(&s, "after").rule, "no_attended_session");
    // attended on the milestone's date: 720.00 x 0.50 = 360.00
    assert_eq!(line(&s, "on").rule, "base");
    assert_eq!(line(&s, "on").base_amount, dec("360.00"));
}

#[test]
fn a_late_student_catches_up_at_a_later_milestone_and_at_the_contingent_one() {
    let c = contract(&[]);
    let late = || {
        kid("late")
            .enrolled("2024-11-01", None)
            .from("2024-11-04")
            .attended(20)
            .scores("200", "210", "10")
    };
    // midyear, nothing paid before: due 720.00 x (0.50 + 0.50) = 720.00
    let s = run(&c, "midyear", vec![late()]);
    assert_eq!(s.lines[0].rule, "base");
    assert_eq!(s.lines[0].base_amount, dec("720.00"));
    // final, nothing paid before: base due B = 720.00; meets 480.00; total 1200.00
    let s = run(&c, "final", vec![late()]);
    assert_eq!(amounts(&s.lines[0]), money3("720.00", "480.00", "1200.00"));
    // final, 360.00 paid at midyear? No: paid 720.00 -> base 0.00
    let s = run_with(
        &c,
        "final",
        None,
        prior("720.00", &[("late", "720.00")]),
        vec![late()],
    );
    assert_eq!(amounts(&s.lines[0]), money3("0.00", "480.00", "480.00"));
}

#[test]
fn a_base_line_is_never_negative() {
    let c = contract(&[]);
    // The midyear statement paid 720.00; the enrollment statement re-run with --as-of
    // 2024-10-01: due 720.00 x 0.50 = 360.00, paid 720.00 -> max(0, 360.00 - 720.00) = 0.00
    let s = run_with(
        &c,
        "enrollment",
        Some("2024-10-01"),
        prior("720.00", &[("a", "720.00")]),
        vec![kid("a").attended(3)],
    );
    assert_eq!(s.lines[0].base_amount, dec("0.00"));
    assert_eq!(s.totals.statement_total, dec("0.00"));
    // --as-of before the first session: no counted attended session -> no_attended_session
    let s = run_with(
        &c,
        "enrollment",
        Some("2024-09-01"),
        PriorPayments::default(),
        vec![kid("a").attended(3)],
    );
    assert_eq!(s.lines[0].rule, "no_attended_session");
}

// ---------------------------------------------------------------------------------------------
// 5.5 School adjustment
// ---------------------------------------------------------------------------------------------
// The example's "*" entry: median >= 1.20 adjusts +0.10, >= 0.80 adjusts 0.00, else -0.10.

#[test]
fn school_adjustment_median_of_an_odd_count() {
    let c = contract_with_schools(&[]);
    // gvp 0.5, 1.2, 1.6: median 1.2 >= 1.20 -> +0.10
    let s = run(
        &c,
        "final",
        vec![
            kid("a").judged_with_growth(5),
            kid("b").judged_with_growth(12),
            kid("c").judged_with_growth(16),
        ],
    );
    // a: 480.00 x 0.50 x 1.10 = 264.00; b: 480.00 x 1.00 x 1.10 = 528.00;
    // c: 480.00 x 1.25 x 1.10 = 660.00
    for (id, rule, tier, amount) in [
        (
            "a",
            "tier:approaching+school_adjust",
            "approaching",
            "264.00",
        ),
        ("b", "tier:meets+school_adjust", "meets", "528.00"),
        ("c", "tier:exceeds+school_adjust", "exceeds", "660.00"),
    ] {
        let l = line(&s, id);
        assert_eq!(l.rule, rule);
        assert_eq!(l.contingent_amount, dec(amount), "{id}");
        assert_eq!(
            l.contingent_clause,
            format!("rate_card.{tier} + school_adjustment[0]")
        );
        assert_eq!(l.total, l.base_amount + l.contingent_amount);
    }
    // tier_pays is the tier's, before the adjustment
    assert_eq!(line(&s, "b").tier_pays, dec("1.00"));
}

#[test]
fn school_adjustment_median_of_an_even_count_is_the_exact_mean() {
    let c = contract_with_schools(&[]);
    // 1.0 and 1.4: mean 1.2 >= 1.20 -> +0.10 (the lower middle value alone, 1.0, would give 0)
    // each meets: 480.00 x 1.00 x 1.10 = 528.00
    let s = run(
        &c,
        "final",
        vec![
            kid("a").judged_with_growth(10),
            kid("b").judged_with_growth(14),
        ],
    );
    assert_eq!(line(&s, "a").contingent_amount, dec("528.00"));
    assert_eq!(line(&s, "b").contingent_amount, dec("528.00"));
    // 11/9 = 1.2222.. and 53/45 = 1.1777..: mean (55/45 + 53/45) / 2 = 108/90 = 1.2 exactly
    // -> +0.10, though neither value is exact in decimal.
    let a = kid("a").attended(20).scores("200", "211", "9");
    let b = kid("b").attended(20).scores("200", "253", "45");
    let s = run(&c, "final", vec![a, b]);
    assert_eq!(line(&s, "a").rule, "tier:meets+school_adjust");
    assert_eq!(line(&s, "a").contingent_amount, dec("528.00"));
    assert_eq!(line(&s, "b").contingent_amount, dec("528.00"));
    assert!(
        line(&s, "a").reason.contains("1.2000"),
        "{}",
        line(&s, "a").reason
    );
}

#[test]
fn a_school_own_entry_replaces_the_star_and_entries_never_compound() {
    let own = "\n[[school_adjustment]]\nschool = \"sch-2\"\nmeasure = \"median_growth_vs_projected\"\nbands = [{ min = \"-inf\", adjust = \"0.20\" }]\n";
    let c = Contract::parse(&format!("{EXAMPLE}{own}")).unwrap();
    // sch-1: median 1.0 -> "*" band 0.80 -> adjust 0.00 -> 480.00, school_adjustment[0]
    // sch-2: median 1.6 -> its own entry only: 480.00 x 1.25 x 1.20 = 720.00 (with "*" as
    // well it would be x 1.10 x 1.20 = 792.00), school_adjustment[1]
    let s = run(
        &c,
        "final",
        vec![
            kid("a").judged_with_growth(10),
            kid("b").school("sch-2").judged_with_growth(16),
        ],
    );
    assert_eq!(line(&s, "a").contingent_amount, dec("480.00"));
    assert_eq!(
        line(&s, "a").contingent_clause,
        "rate_card.meets + school_adjustment[0]"
    );
    assert_eq!(line(&s, "b").contingent_amount, dec("720.00"));
    assert_eq!(
        line(&s, "b").contingent_clause,
        "rate_card.exceeds + school_adjustment[1]"
    );
    // a school with no entry and no "*": unchanged
    let c = Contract::parse(&edit(
        &format!("{EXAMPLE}{own}"),
        &[("school = \"*\"", "school = \"sch-9\"")],
    ))
    .unwrap();
    let s = run(&c, "final", vec![kid("a").judged_with_growth(10)]);
    assert_eq!(s.lines[0].rule, "tier:meets");
}

#[test]
fn only_tier_lines_with_a_defined_growth_vs_projected_make_the_median() {
    let c = contract_with_schools(&[]);
    // a: tier meets, gvp 1.0. b: excluded (19 offered) with gvp 2.0. d: district_fault via
    // availability with gvp 2.0. If b and d counted, the median of 1.0, 2.0, 2.0 would be 2.0
    // (+0.10); they do not: median 1.0 -> adjust 0.00.
    let a = kid("a").judged_with_growth(10);
    let b = kid("b").attended(19).scores("200", "220", "10");
    let d = kid("d")
        .attended(20)
        .sessions(20, DistrictCancelled, "t1")
        .scores("200", "220", "10");
    // e: another school, only a district_fault line (no score): no median, unchanged
    let e = kid("e").school("sch-3").attended(20);
    let s = run(&c, "final", vec![a, b, d, e]);
    assert_eq!(line(&s, "a").rule, "tier:meets+school_adjust");
    assert_eq!(line(&s, "a").contingent_amount, dec("480.00"));
    assert_eq!(line(&s, "b").rule, "excluded");
    assert_eq!(line(&s, "b").contingent_amount, dec("0.00"));
    assert_eq!(line(&s, "d").rule, "district_fault");
    assert_eq!(line(&s, "d").contingent_amount, dec("480.00"));
    assert_eq!(line(&s, "e").rule, "district_fault");
    assert_eq!(line(&s, "e").contingent_clause, "outcome.missing_score");
}

#[test]
fn a_tier_line_without_growth_vs_projected_is_still_adjusted() {
    let c = contract_with_schools(&[
        (
            "measure = \"growth_vs_projected\"",
            "measure = \"rit_gain\"",
        ),
        ("min = \"1.50\"", "min = \"15\""),
        ("min = \"1.00\"", "min = \"10\""),
        ("min = \"0.50\"", "min = \"5\""),
    ]);
    // a: 12 points, projection 10 -> gvp 1.2; b: 12 points, no projection (grade 9) -> gvp
    // undefined, not in the median. Median 1.2 -> +0.10; both are tier lines of the school:
    // 480.00 x 1.00 x 1.10 = 528.00 each.
    let a = kid("a").judged_with_growth(12);
    let b = kid("b")
        .grade("9")
        .attended(20)
        .test(row("Fall", "2024-09-05", "200"))
        .test(row("Spring", "2025-05-01", "212"));
    let s = run(&c, "final", vec![a, b]);
    assert_eq!(line(&s, "b").growth_vs_projected, None);
    assert_eq!(line(&s, "b").rule, "tier:meets+school_adjust");
    assert_eq!(line(&s, "b").contingent_amount, dec("528.00"));
    assert_eq!(line(&s, "a").contingent_amount, dec("528.00"));
}

#[test]
fn school_adjustment_is_rounded_once_and_only_at_the_contingent_milestone() {
    let c = contract_with_schools(&[("\"1200.00\"", "\"1200.05\"")]);
    // C = 1200.05 x 0.40 = 480.02; gvp 1.6 -> exceeds; median 1.6 -> +0.10:
    // 480.02 x 1.25 x 1.10 = 660.0275 -> 660.03 (rounding 600.025 -> 600.02 first would give
    // 600.02 x 1.10 = 660.022 -> 660.02)
    let s = run(&c, "final", vec![kid("a").judged_with_growth(16)]);
    assert_eq!(s.lines[0].contingent_amount, dec("660.03"));
    // before the contingent milestone nothing is adjusted
    let s = run(&c, "midyear", vec![kid("a").judged_with_growth(16)]);
    assert_eq!(s.lines[0].rule, "base");
    assert_eq!(s.lines[0].contingent_amount, dec("0.00"));
}

#[test]
fn a_negative_adjustment_lowers_the_tier_pay() {
    let c = contract_with_schools(&[]);
    // gvp 0.5 and 0.6 (even): median 0.55 < 0.80 -> -0.10:
    // 480.00 x 0.50 x 0.90 = 216.00 each; met target: nobody.
    let s = run(
        &c,
        "final",
        vec![
            kid("a").judged_with_growth(5),
            kid("b").judged_with_growth(6),
        ],
    );
    assert_eq!(line(&s, "a").contingent_amount, dec("216.00"));
    assert_eq!(line(&s, "b").contingent_amount, dec("216.00"));
    assert_eq!(s.totals.met_target, 0);
}

// ---------------------------------------------------------------------------------------------
// 5.6 Rounding, 5.7 cap
// ---------------------------------------------------------------------------------------------

#[test]
fn each_line_is_rounded_half_to_even_and_totals_sum_rounded_lines() {
    let c = contract(&[("\"1200.00\"", "\"1200.05\"")]);
    // C = 480.02; exceeds: 480.02 x 1.25 = 600.025 -> 600.02; B = 720.03 at final.
    let s = run(
        &c,
        "final",
        vec![
            kid("a").judged_with_growth(15),
            kid("b").judged_with_growth(15),
        ],
    );
    assert_eq!(amounts(&s.lines[0]), money3("720.03", "600.02", "1320.05"));
    // contingent total 600.02 + 600.02 = 1200.04 (not round(1200.05))
    assert_eq!(s.totals.contingent, dec("1200.04"));
    assert_eq!(s.totals.base, dec("1440.06"));
    assert_eq!(s.totals.lines_total, dec("2640.10"));
    assert_eq!(s.totals.statement_total, dec("2640.10"));
    // enrollment: 3 x round(360.015) = 3 x 360.02 = 1080.06 (not round(1080.045) = 1080.04)
    let s = run(
        &c,
        "enrollment",
        vec![
            kid("a").attended(1),
            kid("b").attended(1),
            kid("c").attended(1),
        ],
    );
    assert_eq!(s.totals.base, dec("1080.06"));
    assert_eq!(s.totals.by_rule.len(), 1);
    assert_eq!(s.totals.by_rule[0].rule, "base");
    assert_eq!(s.totals.by_rule[0].students, 3);
    assert_eq!(s.totals.by_rule[0].base, dec("1080.06"));
}

#[test]
fn the_cap_brings_the_total_to_what_remains_of_the_nte() {
    let c = contract(&[("\"600000.00\"", "\"2000.00\"")]);
    let kids = || {
        vec![
            kid("a").judged_with_growth(10),
            kid("b").judged_with_growth(10),
        ]
    };
    let paid = |before: &str| prior(before, &[("a", "720.00"), ("b", "720.00")]);
    // lines 480.00 + 480.00 = 960.00; paid before 1500.00: 2460.00 > 2000.00 ->
    // nte_cap = (2000.00 - 1500.00) - 960.00 = -460.00; total 500.00; lines unchanged.
    let s = run_with(&c, "final", None, paid("1500.00"), kids());
    assert_eq!(s.totals.lines_total, dec("960.00"));
    assert_eq!(s.totals.nte_remaining, dec("500.00"));
    assert_eq!(s.totals.nte_cap, Some(dec("-460.00")));
    assert_eq!(s.totals.statement_total, dec("500.00"));
    assert_eq!(s.lines[0].total, dec("480.00"));
    assert!(
        s.to_csv()
            .contains("NTE_CAP,,,,,,,,,,,,,,,,nte_cap,,,-460.00,,,not_to_exceed"),
        "{}",
        s.to_csv()
    );
    // paid before already above the NTE: max(0, 2000.00 - 2500.00) = 0: cap -960.00
    let s = run_with(&c, "final", None, paid("2500.00"), kids());
    assert_eq!(s.totals.nte_cap, Some(dec("-960.00")));
    assert_eq!(s.totals.statement_total, dec("0.00"));
    // exactly at the NTE: 1040.00 + 960.00 = 2000.00, not above: no cap line
    let s = run_with(&c, "final", None, paid("1040.00"), kids());
    assert_eq!(s.totals.nte_cap, None);
    assert_eq!(s.totals.statement_total, dec("960.00"));
    assert!(!s.to_csv().contains("NTE_CAP"));
}

// ---------------------------------------------------------------------------------------------
// 5.8 Outcome statistics
// ---------------------------------------------------------------------------------------------

#[test]
fn met_target_and_cost_per_outcome() {
    let c = contract(&[]);
    // Nothing paid before, final milestone, B = 720.00 each (one attended session or more):
    // a meets 720 + 480 = 1200.00; b exceeds 720 + 600 = 1320.00; c approaching
    // 720 + 240 = 960.00; d district_fault (pays 1.00 but no tier) 720 + 480 = 1200.00;
    // e excluded (19 offered) 720 + 0 = 720.00. Total 5400.00. Met: a, b -> 5400.00 / 2 = 2700.00
    let s = run(
        &c,
        "final",
        vec![
            kid("a").judged_with_growth(10),
            kid("b").judged_with_growth(16),
            kid("c").judged_with_growth(7),
            kid("d").attended(20),
            kid("e").attended(19).scores("200", "220", "10"),
        ],
    );
    assert_eq!(s.totals.students, 5);
    assert_eq!(s.totals.statement_total, dec("5400.00"));
    assert_eq!(s.totals.met_target, 2);
    assert_eq!(s.totals.cost_per_outcome, Some(dec("2700.00")));
    let rules: Vec<(&str, u32)> = s
        .totals
        .by_rule
        .iter()
        .map(|r| (r.rule.as_str(), r.students))
        .collect();
    assert_eq!(
        rules,
        [
            ("district_fault", 1),
            ("excluded", 1),
            ("tier:approaching", 1),
            ("tier:exceeds", 1),
            ("tier:meets", 1)
        ]
    );
}

#[test]
fn cost_per_outcome_counts_paid_before_and_rounds_half_to_even() {
    let c = contract(&[]);
    // base paid: 0.00 this time; lines 480.00 + 480.00 = 960.00; paid before 1440.01;
    // (1440.01 + 960.00) / 2 = 1200.005 -> 1200.00 (half to even)
    let s = run_with(
        &c,
        "final",
        None,
        prior("1440.01", &[("a", "720.00"), ("b", "720.00")]),
        vec![
            kid("a").judged_with_growth(10),
            kid("b").judged_with_growth(10),
        ],
    );
    assert_eq!(s.totals.cost_per_outcome, Some(dec("1200.00")));
    // after the cap: NTE 1500.00, paid before 1440.01 -> total 59.99; all paid 1500.00 / 2 = 750.00
    let c = contract(&[("\"600000.00\"", "\"1500.00\"")]);
    let s = run_with(
        &c,
        "final",
        None,
        prior("1440.01", &[("a", "720.00"), ("b", "720.00")]),
        vec![
            kid("a").judged_with_growth(10),
            kid("b").judged_with_growth(10),
        ],
    );
    assert_eq!(s.totals.statement_total, dec("59.99"));
    assert_eq!(s.totals.cost_per_outcome, Some(dec("750.00")));
}

#[test]
fn no_cost_per_outcome_when_nobody_met_the_target() {
    let c = contract(&[]);
    let s = run(&c, "final", vec![kid("a").judged_with_growth(9)]);
    assert_eq!(s.totals.met_target, 0);
    assert_eq!(s.totals.cost_per_outcome, None);
    assert!(
        s.to_csv()
            .ends_with("COST_PER_OUTCOME,0,,,,,,,,,,,,,,,,,,,,,,,,\n"),
        "{}",
        s.to_csv()
    );
    // before the contingent milestone nobody can meet it either
    let s = run(&c, "midyear", vec![kid("a").judged_with_growth(10)]);
    assert_eq!(s.totals.cost_per_outcome, None);
}

#[test]
fn a_school_adjusted_tier_still_meets_the_target() {
    let c = contract_with_schools(&[]);
    // gvp 0.5 and 1.0: median 0.75 < 0.80 -> -0.10; b: meets x 0.90 = 432.00, still "met"
    // (the tier pays 1.00); a: approaching x 0.90 = 216.00.
    let s = run(
        &c,
        "final",
        vec![
            kid("a").judged_with_growth(5),
            kid("b").judged_with_growth(10),
        ],
    );
    assert_eq!(line(&s, "b").rule, "tier:meets+school_adjust");
    assert_eq!(line(&s, "b").contingent_amount, dec("432.00"));
    assert_eq!(s.totals.met_target, 1);
    // all paid: 720 + 216 + 720 + 432 = 2088.00 / 1
    assert_eq!(s.totals.cost_per_outcome, Some(dec("2088.00")));
}

// ---------------------------------------------------------------------------------------------
// Lines: who has one, and in what order
// ---------------------------------------------------------------------------------------------

#[test]
fn lines_are_sorted_by_student_id_in_byte_order() {
    let c = contract(&[]);
    let ids = ["b", "a9", "Z", "a10", "B", "é"];
    let s = run(&c, "enrollment", ids.iter().map(|id| kid(id)).collect());
    let got: Vec<&str> = s.lines.iter().map(|l| l.student_id.as_str()).collect();
    assert_eq!(got, ["B", "Z", "a10", "a9", "b", "é"]);
}

#[test]
fn only_students_enrolled_during_the_period_have_a_line() {
    let c = contract(&[]);
    // period 2024-08-12 .. 2025-05-30
    let s = run(
        &c,
        "final",
        vec![
            kid("after").enrolled("2025-05-31", None),
            kid("before").enrolled("2024-01-01", Some("2024-08-11")),
            kid("last-day").enrolled("2025-05-30", None),
            kid("first-day").enrolled("2024-01-01", Some("2024-08-12")),
        ],
    );
    let got: Vec<&str> = s.lines.iter().map(|l| l.student_id.as_str()).collect();
    assert_eq!(got, ["first-day", "last-day"]);
    assert_eq!(s.totals.students, 2);
}

#[test]
fn an_unknown_milestone_is_an_error() {
    let c = contract(&[]);
    let err = compute(request(
        &c,
        "graduation",
        None,
        PriorPayments::default(),
        vec![kid("a")],
    ))
    .unwrap_err();
    assert_eq!(
        err,
        EngineError::UnknownMilestone {
            contract: "ector-math-2025".into(),
            milestone: "graduation".into(),
            known: "enrollment, midyear, final".into(),
        }
    );
    assert!(err.to_string().contains("no milestone \"graduation\""));
}

// ---------------------------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------------------------

#[test]
fn row_order_changes_no_byte() {
    let c = contract_with_schools(&[]);
    let make = |reverse: bool| {
        let mut kids = vec![
            kid("a")
                .judged_with_growth(12)
                .sessions(2, StudentAbsent, "t2"),
            kid("b").judged_with_growth(16).school("sch-2"),
            kid("c").attended(20),
        ];
        if reverse {
            kids.reverse();
            for k in &mut kids {
                k.input.sessions.reverse();
                k.input.tests.reverse();
            }
        }
        run(&c, "final", kids)
    };
    let (x, y) = (make(false), make(true));
    assert_eq!(x.to_csv(), y.to_csv());
    assert_eq!(x.to_json(), y.to_json());
}

#[test]
fn tests_of_other_subjects_at_the_same_time_do_not_change_the_statement() {
    // MAP tests of two subjects often share a date and a blank (00:00:00) start time.
    let c = contract(&[]);
    let make = |reading_first: bool| {
        let mut reading = row("Fall", "2024-09-05", "190");
        reading.subject = "Reading".into();
        let math = projected(row("Fall", "2024-09-05", "200"), "10");
        let (first, second) = if reading_first {
            (reading, math)
        } else {
            (math, reading)
        };
        run(
            &c,
            "final",
            vec![kid("a").attended(20).test(first).test(second).test(row(
                "Spring",
                "2025-05-01",
                "210",
            ))],
        )
    };
    let (x, y) = (make(true), make(false));
    assert_eq!(x.lines[0].baseline, Some(dec("200")));
    assert_eq!(x.to_json(), y.to_json());
    assert_eq!(x.to_csv(), y.to_csv());
}

#[test]
fn equal_inputs_give_equal_bytes_and_the_inputs_hash_names_them() {
    let c = contract(&[]);
    let x = run(&c, "final", vec![kid("a").judged_with_growth(10)]);
    let y = run(&c, "final", vec![kid("a").judged_with_growth(10)]);
    assert_eq!(x.to_json(), y.to_json());
    assert_eq!(x.inputs_hash.len(), 64);
    let z = run(&c, "final", vec![kid("a").judged_with_growth(11)]);
    assert_ne!(x.inputs_hash, z.inputs_hash);
    let w = run_with(
        &c,
        "final",
        None,
        prior("1.00", &[]),
        vec![kid("a").judged_with_growth(10)],
    );
    assert_ne!(x.inputs_hash, w.inputs_hash);
}

#[test]
fn an_nte_with_sub_cent_digits_is_never_exceeded() {
    let c = contract(&[("\"600000.00\"", "\"1000.006\"")]);
    // lines 720.00 + 480.00 = 1200.00 > 1000.006: what remains is 1000.00 in whole cents
    // (1000.01 would exceed the NTE): cap 1000.00 - 1200.00 = -200.00
    let s = run(&c, "final", vec![kid("a").judged_with_growth(10)]);
    assert_eq!(s.totals.nte_remaining, dec("1000.00"));
    assert_eq!(s.totals.nte_cap, Some(dec("-200.00")));
    assert_eq!(s.totals.statement_total, dec("1000.00"));
}

#[test]
fn a_statement_with_nothing_to_pay_after_the_nte_is_reached_pays_nothing() {
    let c = contract(&[("\"600000.00\"", "\"2000.00\"")]);
    // paid before 2500.00 > 2000.00 already; this statement's lines are 0.00 (base paid,
    // growth 0.1 -> below): the literal condition (2500.00 + 0.00 > 2000.00) holds, so a 0.00
    // nte_cap line appears and the total is max(0, 2000.00 - 2500.00) = 0.00.
    let s = run_with(
        &c,
        "final",
        None,
        prior("2500.00", &[("a", "720.00")]),
        vec![kid("a").judged_with_growth(1)],
    );
    assert_eq!(s.totals.lines_total, dec("0.00"));
    assert_eq!(s.totals.nte_cap, Some(dec("0.00")));
    assert_eq!(s.totals.statement_total, dec("0.00"));
}

#[test]
fn statement_csv_neutralizes_formulas_in_text_cells_and_keeps_numbers_plain() {
    let c = contract(&[("\"600000.00\"", "\"100.00\"")]);
    let s = run(
        &c,
        "final",
        vec![
            kid("=HYPERLINK(\"http://x\",\"y\")")
                .school("+1+1")
                .judged_with_growth(-3),
            kid("@SUM(1+1)").school("-2+3").judged_with_growth(10),
        ],
    );
    let csv = s.to_csv();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(&rows[0][0], "'=HYPERLINK(\"http://x\",\"y\")");
    assert_eq!(&rows[0][1], "'+1+1");
    // observed growth and the cap line are numbers: written as they are
    assert_eq!(&rows[0][13], "-3");
    assert_eq!(&rows[1][0], "'@SUM(1+1)");
    assert_eq!(&rows[1][1], "'-2+3");
    let cap = rows.iter().find(|r| &r[0] == "NTE_CAP").unwrap();
    assert!(cap[19].starts_with('-'), "{cap:?}");
}

#[test]
fn a_projection_too_precise_to_compute_with_is_an_error_not_a_panic() {
    let c = contract(&[]);
    // 10 / 0.0000000000000000000000000001 would overflow: refused, naming student and value.
    let k = kid("a")
        .attended(20)
        .scores("200", "210", "0.0000000000000000000000000001");
    let err = compute(request(
        &c,
        "final",
        None,
        PriorPayments::default(),
        vec![k],
    ))
    .unwrap_err();
    assert!(
        matches!(&err, EngineError::ValueOutOfRange { student, what, .. }
            if student == "a" && what == "the FallToSpring projected growth"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "student a: the FallToSpring projected growth 0.0000000000000000000000000001 has more \
         than 6 decimal places: correct the data and import it again"
    );
    let k = kid("b")
        .attended(20)
        .scores("200", "79228162514264337593543950335", "10");
    let err = compute(request(
        &c,
        "final",
        None,
        PriorPayments::default(),
        vec![k],
    ))
    .unwrap_err();
    assert!(err.to_string().contains("the Spring score"), "{err}");
}

#[test]
fn a_line_of_a_billion_or_more_is_an_error_not_a_panic() {
    // C = 999999999.99 x 0.40; tier exceeds pays 999999999: far beyond any line obc pays.
    let c = contract(&[
        ("\"1200.00\"", "\"999999999.99\""),
        ("pays = \"1.25\"", "pays = \"999999999\""),
    ]);
    let k = kid("a").judged_with_growth(20);
    let err = compute(request(
        &c,
        "final",
        None,
        PriorPayments::default(),
        vec![k],
    ))
    .unwrap_err();
    assert!(
        matches!(&err, EngineError::AmountTooLarge { student, .. } if student == "a"),
        "{err:?}"
    );
}

#[test]
fn ambiguous_sessions_count_for_nothing_and_are_named_in_the_notes() {
    let c = contract(&[]);
    let k = kid("a")
        .session_on("2024-09-03", Attended, "T1")
        .session_on("2024-09-04", Attended, "T1")
        .session_on("2025-07-04", Attended, "T1") // after the period: not named
        .ambiguous()
        .session_on("2024-09-05", Attended, "T1");
    let l = final_line(&c, k);
    assert_eq!((l.planned, l.attended), (1, 1));
    assert_eq!(
        l.notes,
        ["2 sessions with no subject not counted (a-000, a-001): the student is enrolled in two or more of the provider's contracts on their dates"]
    );
    let l = final_line(&c, kid("a").session_on("2024-09-05", Attended, "T1"));
    assert!(l.notes.is_empty());
}

#[test]
fn inputs_without_subjects_or_ambiguous_sessions_hash_as_before() {
    let input = kid("a").session_on("2024-09-03", Attended, "T1").build();
    let json = serde_json::to_string(&input).unwrap();
    assert!(
        !json.contains("subject") && !json.contains("ambiguous"),
        "{json}"
    );
}
