//! Server-side SVG charts for the dashboards: pure functions from data to an SVG string that
//! pages inline as is. No JavaScript and no `style` attributes, so the charts work under a
//! strict Content-Security-Policy, on locked-down school devices and in printouts; `viewBox`
//! with `width="100%"` lets the same markup shrink to a phone screen.
//!
//! Every chart is `role="img"` with a `<title>` and a `<desc>` that says in words what the
//! picture shows, so screen-reader users get the same information as sighted ones. Output is
//! deterministic (numbers printed with fixed decimals, no clocks, no hash maps), so the same
//! data always gives the same bytes and pages can be cached and compared. Geometry is `f64`:
//! these are pictures, and any money they show arrives as text formatted by the caller.

use std::fmt::Write as _;

/// Writing into a `String` cannot fail, so the `fmt::Result` is dropped here once.
macro_rules! w {
    ($dst:expr, $($arg:tt)*) => {{
        let _ = write!($dst, $($arg)*);
    }};
}

/// Page text (slate-900): 17:1 on the white chart background.
const INK: &str = "#0f172a";
/// Axis labels and secondary text (slate-600): 7.6:1 on white.
const MUTED: &str = "#475569";
/// Axis lines (slate-500): 4.8:1 on white.
const AXIS: &str = "#64748b";
/// Grid lines: deliberately faint, they only guide the eye.
const GRID: &str = "#e2e8f0";
/// Histogram bars and the line of a line chart (blue-600): 5.2:1 on white.
const BLUE: &str = "#2563eb";
/// Overflow bins are drawn differently because they are open-ended (slate-500).
const OVERFLOW: &str = "#64748b";
/// Markers and thresholds (amber-700): 5.0:1 on white, distinct from the data colour.
const MARK: &str = "#b45309";
/// Waterfall increases (green-700): 5.0:1 on white.
const UP: &str = "#15803d";
/// Waterfall decreases (red-700): 6.5:1 on white.
const DOWN: &str = "#b91c1c";
/// Waterfall totals (slate-600).
const TOTAL: &str = "#475569";
/// The charts paint their own white background so the contrast above holds on any page.
const BACKGROUND: &str = "#ffffff";
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

/// Tolerance for floating-point bin edges, so that e.g. 0.7 / 0.1 lands in bin 7, not 6.
const EPS: f64 = 1e-9;
/// Rough width of one character of 13px system-ui text, for overlap avoidance. Labels are
/// 13px in a 640-wide picture so they stay legible when a phone shrinks it to half size.
const CHAR_W: f64 = 8.0;

/// The clamp range of [`histogram`]. Growth ratios outside it are rare and would stretch the
/// axis until the interesting middle is unreadable, so they are counted in overflow bins.
pub const HISTOGRAM_RANGE: (f64, f64) = (-1.0, 3.0);

/// One step of a [`waterfall`].
#[derive(Debug, Clone, PartialEq)]
pub struct WaterfallStep {
    pub label: String,
    /// For `Total` the level of the bar; for `Increase` and `Decrease` the size of the change
    /// (the sign is ignored: the kind says which way it goes, so callers may pass signed deltas).
    pub amount: f64,
    /// The amount as the reader should see it, e.g. "-$1,200.00"; the chart never formats money.
    pub amount_text: String,
    pub kind: StepKind,
}

/// What a waterfall bar means: a level from zero, or a change floating on the running total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Total,
    Increase,
    Decrease,
}

/// Distribution of growth vs projected (observed / projected growth) across students.
///
/// Bins are `[k * bin_width, (k + 1) * bin_width)` from the bin of the smallest value to the
/// bin of the largest, clamped to [`HISTOGRAM_RANGE`]; values beyond it are counted in an
/// overflow bin on either side (labelled e.g. "< -1" and ">= 3"), so one outlier cannot squash
/// the rest. `bin_width` is clamped to 1/100..1/2 of the range (0.25 if it is not positive).
/// The optional marker (e.g. `(1.0, "meets projection")`) is a vertical line, and the bins are
/// widened to show it. Non-finite values are left out and said so in the description.
pub fn histogram(
    title: &str,
    values: &[f64],
    bin_width: f64,
    marker: Option<(f64, &str)>,
) -> String {
    histogram_with_links(title, values, bin_width, marker, None)
}

/// A [`histogram`] whose bars link to the records behind them: `link(from, to)` gives a bar's
/// address from its bin's edges (`from` inclusive, `to` exclusive; `None` for the open side of
/// the overflow bars).
pub fn histogram_linked(
    title: &str,
    values: &[f64],
    bin_width: f64,
    marker: Option<(f64, &str)>,
    link: &dyn Fn(Option<f64>, Option<f64>) -> String,
) -> String {
    histogram_with_links(title, values, bin_width, marker, Some(link))
}

/// A bin's edges: (from, to), `None` on the open side of an overflow bin.
type BinEdges = (Option<f64>, Option<f64>);

fn histogram_with_links(
    title: &str,
    values: &[f64],
    bin_width: f64,
    marker: Option<(f64, &str)>,
    link: Option<&dyn Fn(Option<f64>, Option<f64>) -> String>,
) -> String {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let skipped = values.len() - finite.len();
    if finite.is_empty() {
        return no_data(title);
    }
    let (range_lo, range_hi) = HISTOGRAM_RANGE;
    let span = range_hi - range_lo;
    let bw = if bin_width.is_finite() && bin_width > 0.0 {
        bin_width.clamp(span / 100.0, span / 2.0)
    } else {
        0.25
    };
    // Bin indices are bounded so that far-out values (1e300) cannot overflow the arithmetic.
    let bin_of = |v: f64| (v / bw + EPS).floor().clamp(-1e12, 1e12) as i64;
    // Regular bins run from low_k to high_k (exclusive); their outer edges are the cut-offs.
    let low_k = (range_lo / bw - EPS).ceil() as i64;
    let high_k = ((range_hi / bw + EPS).floor() as i64).max(low_k);
    let edge = |k: i64| k as f64 * bw;
    let ks: Vec<i64> = finite.iter().map(|&v| bin_of(v)).collect();
    let under = ks.iter().filter(|&&k| k < low_k).count();
    let over = ks.iter().filter(|&&k| k >= high_k).count();
    let kmin = ks.iter().copied().min().unwrap_or(0);
    let kmax = ks.iter().copied().max().unwrap_or(0);
    let mut lo = kmin.clamp(low_k, high_k);
    let mut hi = (kmax + 1).clamp(lo, high_k);
    let marker = marker.filter(|(m, _)| m.is_finite());
    if let Some((m, _)) = marker {
        let m_lo = bin_of(m);
        let m_hi = (m / bw - EPS).ceil().clamp(-1e12, 1e12) as i64;
        if m_lo >= low_k && m_hi <= high_k {
            lo = lo.min(m_lo);
            hi = hi.max(m_hi);
        }
    }
    let mut regular = vec![0usize; usize::try_from(hi - lo).unwrap_or(0)];
    for &k in &ks {
        if (lo..hi).contains(&k) {
            regular[(k - lo) as usize] += 1;
        }
    }

    let decimals = decimals_for(bw);
    let label = |v: f64| trim_num(v, decimals);
    // Columns left to right: (count, is overflow, words for the description and tooltip,
    // the bin's edges).
    let mut columns: Vec<(usize, bool, String, BinEdges)> = Vec::new();
    if under > 0 {
        let words = format!("below {}", label(edge(low_k)));
        columns.push((under, true, words, (None, Some(edge(low_k)))));
    }
    for (i, &count) in regular.iter().enumerate() {
        let k = lo + i as i64;
        let words = format!("from {} to under {}", label(edge(k)), label(edge(k + 1)));
        columns.push((count, false, words, (Some(edge(k)), Some(edge(k + 1)))));
    }
    if over > 0 {
        let words = format!("at {} or above", label(edge(high_k)));
        columns.push((over, true, words, (Some(edge(high_k)), None)));
    }

    let n = finite.len();
    let mut desc = format!("{n} {}: ", plural(n, "student", "students"));
    let parts: Vec<String> = columns
        .iter()
        .filter(|(count, _, _, _)| *count > 0)
        .map(|(count, _, words, _)| format!("{count} {words}"))
        .collect();
    desc.push_str(&parts.join("; "));
    desc.push('.');
    if let Some((m, text)) = marker {
        let at_or_above = finite.iter().filter(|&&v| v >= m - EPS).count();
        w!(
            desc,
            " Marker at {} ({text}): {at_or_above} of {n} at or above it.",
            trim_num(m, 2)
        );
    }
    if skipped > 0 {
        w!(desc, " {skipped} values that are not numbers are left out.");
    }

    let (width, height) = (640.0, 320.0);
    let (x0, x1, y0, y1) = (52.0, width - 20.0, 56.0, height - 48.0);
    let (plot_w, plot_h) = (x1 - x0, y1 - y0);
    let max_count = columns.iter().map(|c| c.0).max().unwrap_or(1).max(1) as f64;
    let step = nice_step(max_count, 5.0).max(1.0).round();
    // Strictly above the tallest bar, so its count label never touches the marker label.
    let top = ((max_count / step).floor() + 1.0) * step;
    let y_of = |count: f64| y1 - count / top * plot_h;
    let col_w = plot_w / columns.len() as f64;
    let offset = if under > 0 { 1.0 } else { 0.0 };

    let mut out = String::new();
    let role = if link.is_some() { "group" } else { "img" };
    open_svg_as(&mut out, role, "histogram", (width, height), title, &desc);
    let mut t = 0.0;
    while t <= top + EPS {
        let y = y_of(t);
        w!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{GRID}" stroke-width="1"/>"#,
            num(x0),
            num(y),
            num(x1),
            num(y)
        );
        w!(
            out,
            r#"<text x="{}" y="{}" font-size="13" fill="{MUTED}" text-anchor="end">{}</text>"#,
            num(x0 - 8.0),
            num(y + 4.0),
            trim_num(t, 0)
        );
        t += step;
    }
    let gap = (col_w * 0.12).min(4.0);
    for (i, (count, overflow, words, (from, to))) in columns.iter().enumerate() {
        let x = x0 + i as f64 * col_w;
        let y = y_of(*count as f64);
        let fill = if *overflow { OVERFLOW } else { BLUE };
        let linked = link.filter(|_| *count > 0);
        if let Some(link) = linked {
            w!(
                out,
                r#"<a href="{}" aria-label="{}">"#,
                esc(&link(*from, *to)),
                esc(&format!("{count} {words}: list them"))
            );
        }
        w!(
            out,
            r#"<rect class="bar" data-count="{count}" x="{}" y="{}" width="{}" height="{}" fill="{fill}"><title>{}</title></rect>"#,
            num(x + gap / 2.0),
            num(y),
            num(col_w - gap),
            num(y1 - y),
            esc(&format!("{count} {words}"))
        );
        if linked.is_some() {
            out.push_str("</a>");
        }
        if *count > 0 && col_w >= 16.0 {
            w!(
                out,
                r#"<text x="{}" y="{}" font-size="12" fill="{INK}" text-anchor="middle">{count}</text>"#,
                num(x + col_w / 2.0),
                num(y - 4.0)
            );
        }
    }
    w!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{AXIS}" stroke-width="1"/>"#,
        num(x0),
        num(y1),
        num(x1),
        num(y1)
    );
    // Edge labels every k-th edge, k chosen from "nice" multiples so labels land on round
    // numbers (0, 0.5, 1, ...) and do not overlap.
    let widest = (lo..=hi).map(|k| label(edge(k)).len()).max().unwrap_or(1) as f64;
    let needed = ((widest * CHAR_W + 10.0) / col_w).ceil().max(1.0) as i64;
    let every = [1, 2, 4, 5, 10, 20, 25, 50, 100]
        .into_iter()
        .find(|&k| k >= needed)
        .unwrap_or(needed);
    for k in lo..=hi {
        // The outer edges are already named by the overflow labels beside them.
        if (k == lo && under > 0) || (k == hi && over > 0) || k.rem_euclid(every) != 0 {
            continue;
        }
        let x = x0 + (offset + (k - lo) as f64) * col_w;
        w!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{AXIS}" stroke-width="1"/>"#,
            num(x),
            num(y1),
            num(x),
            num(y1 + 4.0)
        );
        w!(
            out,
            r#"<text x="{}" y="{}" font-size="13" fill="{MUTED}" text-anchor="middle">{}</text>"#,
            num(x),
            num(y1 + 18.0),
            label(edge(k))
        );
    }
    let overflow_label = |out: &mut String, col: usize, text: String| {
        w!(
            out,
            r#"<text x="{}" y="{}" font-size="13" fill="{MUTED}" text-anchor="middle">{}</text>"#,
            num(x0 + (col as f64 + 0.5) * col_w),
            num(y1 + 18.0),
            esc(&text)
        );
    };
    if under > 0 {
        overflow_label(&mut out, 0, format!("< {}", label(edge(low_k))));
    }
    if over > 0 {
        overflow_label(
            &mut out,
            columns.len() - 1,
            format!(">= {}", label(edge(high_k))),
        );
    }
    if let Some((m, text)) = marker {
        let pos = m / bw - lo as f64;
        if pos >= -EPS && pos <= (hi - lo) as f64 + EPS {
            let x = x0 + (offset + pos) * col_w;
            w!(
                out,
                r#"<line class="marker" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{MARK}" stroke-width="2" stroke-dasharray="6 4"/>"#,
                num(x),
                num(y0 - 6.0),
                num(x),
                num(y1)
            );
            let (tx, anchor) = if x > x0 + plot_w * 0.6 {
                (x - 6.0, "end")
            } else {
                (x + 6.0, "start")
            };
            w!(
                out,
                r#"<text x="{}" y="{}" font-size="13" font-weight="600" fill="{MARK}" text-anchor="{anchor}">{}</text>"#,
                num(tx),
                num(y0 - 8.0),
                esc(&truncate(text, 40))
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A rate over time, e.g. weekly attendance rate, with an optional threshold line (e.g. 0.70).
///
/// Points are spread evenly in the given order; `None` (or a non-finite value) breaks the line,
/// because a week without sessions is not a week at 0%. Every point also gets a dot, so a value
/// between two gaps stays visible. The y axis runs from 0 to `y_max` (values beyond are drawn
/// at the edge) and is labelled in percent when `y_max <= 1`. X labels are thinned to every
/// k-th, counted back from the latest, which is the one readers look for.
pub fn line_chart(
    title: &str,
    points: &[(String, Option<f64>)],
    y_max: f64,
    threshold: Option<(f64, &str)>,
) -> String {
    let values: Vec<Option<f64>> = points
        .iter()
        .map(|(_, v)| v.filter(|x| x.is_finite()))
        .collect();
    if values.iter().all(Option::is_none) {
        return no_data(title);
    }
    let data_max = values.iter().flatten().copied().fold(f64::MIN, f64::max);
    let y_max = if y_max.is_finite() && y_max > 0.0 {
        y_max
    } else if data_max > 0.0 {
        data_max
    } else {
        1.0
    };
    let percent = y_max <= 1.0;
    let show = |v: f64| {
        if percent {
            format!("{}%", trim_num(v * 100.0, 1))
        } else {
            trim_num(v, 2)
        }
    };
    let threshold = threshold.filter(|(t, _)| t.is_finite());

    let n = points.len();
    let present: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    let label_of = |i: usize| points[i].0.as_str();
    let mut desc = format!(
        "{n} {} from {} to {}.",
        plural(n, "point", "points"),
        label_of(0),
        label_of(n - 1)
    );
    let lowest = present
        .iter()
        .fold(present[0], |a, &b| if b.1 < a.1 { b } else { a });
    let highest = present
        .iter()
        .fold(present[0], |a, &b| if b.1 > a.1 { b } else { a });
    let latest = present[present.len() - 1];
    w!(
        desc,
        " Lowest {} ({}), highest {} ({}), latest {} ({}).",
        show(lowest.1),
        label_of(lowest.0),
        show(highest.1),
        label_of(highest.0),
        show(latest.1),
        label_of(latest.0)
    );
    let missing = n - present.len();
    if missing > 0 {
        w!(desc, " {missing} without data.");
    }
    if let Some((t, text)) = threshold {
        let at_or_above = present.iter().filter(|(_, v)| *v >= t - EPS).count();
        w!(
            desc,
            " {at_or_above} of {} at or above {text} ({}).",
            present.len(),
            show(t)
        );
    }

    let (width, height) = (640.0, 300.0);
    let (x0, x1, y0, y1) = (52.0, width - 20.0, 60.0, height - 40.0);
    let (plot_w, plot_h) = (x1 - x0, y1 - y0);
    let slot = plot_w / n as f64;
    let x_of = |i: usize| x0 + slot * (i as f64 + 0.5);
    let y_of = |v: f64| y1 - v.clamp(0.0, y_max) / y_max * plot_h;

    let mut out = String::new();
    open_svg(&mut out, "line", width, height, title, &desc);
    let step = nice_step(y_max, 5.0);
    let decimals = if percent {
        decimals_for(step * 100.0)
    } else {
        decimals_for(step)
    };
    let mut j = 0.0;
    while j * step <= y_max + EPS {
        let t = j * step;
        let y = y_of(t);
        let text = if percent {
            format!("{}%", trim_num(t * 100.0, decimals))
        } else {
            trim_num(t, decimals)
        };
        w!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{GRID}" stroke-width="1"/>"#,
            num(x0),
            num(y),
            num(x1),
            num(y)
        );
        w!(
            out,
            r#"<text x="{}" y="{}" font-size="13" fill="{MUTED}" text-anchor="end">{}</text>"#,
            num(x0 - 8.0),
            num(y + 4.0),
            text
        );
        j += 1.0;
    }
    w!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{AXIS}" stroke-width="1"/>"#,
        num(x0),
        num(y1),
        num(x1),
        num(y1)
    );
    let shown: Vec<String> = points.iter().map(|(l, _)| truncate(l, 14)).collect();
    let widest = shown.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64;
    let every = ((widest * CHAR_W + 12.0) / slot).ceil().max(1.0) as usize;
    // Every k-th label counted back from the latest; the first and last are pulled inside the
    // picture, and a label that then comes too close to its neighbour is dropped.
    let spacing = widest * CHAR_W + 12.0;
    let mut labelled: Vec<(usize, f64)> = Vec::new();
    for i in (0..n).rev().step_by(every) {
        let half = shown[i].chars().count() as f64 * CHAR_W / 2.0;
        let x = x_of(i).clamp(half + 4.0, (width - half - 4.0).max(half + 4.0));
        if !matches!(labelled.last(), Some(&(_, next)) if next - x < spacing) {
            labelled.push((i, x));
        }
    }
    for &(i, x) in labelled.iter().rev() {
        w!(
            out,
            r#"<text class="xlabel" x="{}" y="{}" font-size="13" fill="{MUTED}" text-anchor="middle">{}</text>"#,
            num(x),
            num(y1 + 18.0),
            esc(&shown[i])
        );
    }
    if let Some((t, text)) = threshold {
        if (0.0..=y_max).contains(&t) {
            let y = y_of(t);
            w!(
                out,
                r#"<line class="threshold" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{MARK}" stroke-width="2" stroke-dasharray="6 4"/>"#,
                num(x0),
                num(y),
                num(x1),
                num(y)
            );
            // Named in a key above the plot rather than on the line, where points would cover it.
            w!(
                out,
                r#"<line x1="{}" y1="44" x2="{}" y2="44" stroke="{MARK}" stroke-width="2" stroke-dasharray="6 4"/>"#,
                num(x0),
                num(x0 + 28.0)
            );
            w!(
                out,
                r#"<text x="{}" y="48" font-size="13" font-weight="600" fill="{MARK}">{} ({})</text>"#,
                num(x0 + 36.0),
                esc(&truncate(text, 48)),
                show(t)
            );
        }
    }
    // Runs of consecutive present points; a run of one is shown by its dot alone.
    let mut d = String::new();
    let mut run: Vec<(f64, f64)> = Vec::new();
    let mut flush = |run: &mut Vec<(f64, f64)>| {
        if run.len() >= 2 {
            for (i, (x, y)) in run.iter().enumerate() {
                if !d.is_empty() {
                    d.push(' ');
                }
                w!(
                    d,
                    "{}{} {}",
                    if i == 0 { "M" } else { "L" },
                    num(*x),
                    num(*y)
                );
            }
        }
        run.clear();
    };
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => run.push((x_of(i), y_of(*v))),
            None => flush(&mut run),
        }
    }
    flush(&mut run);
    if !d.is_empty() {
        w!(
            out,
            r#"<path class="line" d="{d}" fill="none" stroke="{BLUE}" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"/>"#
        );
    }
    for &(i, v) in &present {
        w!(
            out,
            r#"<circle class="point" cx="{}" cy="{}" r="3.5" fill="{BLUE}"><title>{}</title></circle>"#,
            num(x_of(i)),
            num(y_of(v)),
            esc(&format!("{}: {}", points[i].0, show(v)))
        );
    }
    out.push_str("</svg>");
    out
}

/// From full price to the amount payable, step by step.
///
/// A classic waterfall: `Total` bars stand on zero and set the running total to their amount
/// (the caller's figure is authoritative: the chart does no money arithmetic); `Increase` and
/// `Decrease` bars float from the running total by the size of their amount. Dashed connectors
/// carry the running total from bar to bar. Green is up, red is down, slate is a total; the
/// legend and the description say the same in words for readers who cannot tell the colours.
/// There is no numeric y axis, because only the caller knows how to format money: each bar
/// carries its `amount_text` instead.
pub fn waterfall(title: &str, steps: &[WaterfallStep]) -> String {
    if steps.is_empty() {
        return no_data(title);
    }
    // (start, end) of every bar in data units.
    let mut running = 0.0;
    let bars: Vec<(f64, f64)> = steps
        .iter()
        .map(|s| {
            let amount = if s.amount.is_finite() { s.amount } else { 0.0 };
            let start = match s.kind {
                StepKind::Total => 0.0,
                _ => running,
            };
            running = match s.kind {
                StepKind::Total => amount,
                StepKind::Increase => running + amount.abs(),
                StepKind::Decrease => running - amount.abs(),
            };
            (start, running)
        })
        .collect();
    let lo = bars.iter().fold(0.0f64, |a, &(s, e)| a.min(s).min(e));
    let mut hi = bars.iter().fold(0.0f64, |a, &(s, e)| a.max(s).max(e));
    if hi - lo <= 0.0 {
        hi = lo + 1.0;
    }

    let words = |k: StepKind| match k {
        StepKind::Total => "total",
        StepKind::Increase => "increase",
        StepKind::Decrease => "decrease",
    };
    let parts: Vec<String> = steps
        .iter()
        .map(|s| format!("{}: {} ({})", s.label, s.amount_text, words(s.kind)))
        .collect();
    let desc = format!(
        "{} {}: {}.",
        steps.len(),
        plural(steps.len(), "step", "steps"),
        parts.join("; ")
    );

    let width = 640.0;
    let col_w = (width - 32.0) / steps.len() as f64;
    // Labels shrink (to 9 px) until their longest word fits a column, then wrap onto as many
    // lines as they need, never cut; the chart grows to hold them.
    let longest = steps
        .iter()
        .flat_map(|s| s.label.split_whitespace())
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(1) as f64;
    let label_size = (13.0 * (col_w - 6.0) / (longest * CHAR_W))
        .floor()
        .clamp(9.0, 13.0);
    let max_chars = ((col_w - 6.0) / (CHAR_W * label_size / 13.0))
        .floor()
        .max(4.0) as usize;
    let labels: Vec<Vec<String>> = steps
        .iter()
        .map(|s| wrap_whole(&s.label, max_chars))
        .collect();
    let label_lines = labels.iter().map(Vec::len).max().unwrap_or(1).max(2);
    let extra = 14.0 * (label_lines - 2) as f64;
    let height = 350.0 + extra;
    let below = if lo < 0.0 { 18.0 } else { 0.0 };
    let (x0, x1, y0, y1) = (16.0, width - 16.0, 72.0, height - 50.0 - below - extra);
    let plot_h = y1 - y0;
    let y_of = |v: f64| y1 - (v - lo) / (hi - lo) * plot_h;
    let bar_w = (col_w * 0.6).min(96.0);
    let center = |i: usize| x0 + col_w * (i as f64 + 0.5);
    let colour = |k: StepKind| match k {
        StepKind::Total => TOTAL,
        StepKind::Increase => UP,
        StepKind::Decrease => DOWN,
    };

    let mut out = String::new();
    open_svg(&mut out, "waterfall", width, height, title, &desc);
    let mut lx = 16.0;
    for kind in [StepKind::Total, StepKind::Increase, StepKind::Decrease] {
        if steps.iter().all(|s| s.kind != kind) {
            continue;
        }
        let name = match kind {
            StepKind::Total => "Total",
            StepKind::Increase => "Increase",
            StepKind::Decrease => "Decrease",
        };
        w!(
            out,
            r#"<rect x="{}" y="36" width="12" height="12" fill="{}"/><text x="{}" y="46" font-size="13" fill="{MUTED}">{name}</text>"#,
            num(lx),
            colour(kind),
            num(lx + 16.0)
        );
        lx += 16.0 + name.len() as f64 * CHAR_W + 18.0;
    }
    let zero = y_of(0.0);
    w!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{AXIS}" stroke-width="1"/>"#,
        num(x0),
        num(zero),
        num(x1),
        num(zero)
    );
    for i in 1..bars.len() {
        let y = y_of(bars[i - 1].1);
        w!(
            out,
            r#"<line class="connector" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{AXIS}" stroke-width="1" stroke-dasharray="3 3"/>"#,
            num(center(i - 1) + bar_w / 2.0),
            num(y),
            num(center(i) - bar_w / 2.0),
            num(y)
        );
    }
    for (i, (step, &(start, end))) in steps.iter().zip(&bars).enumerate() {
        let (top, bottom) = (y_of(start.max(end)), y_of(start.min(end)));
        let kind = words(step.kind);
        w!(
            out,
            r#"<rect class="bar" data-kind="{kind}" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>"#,
            num(center(i) - bar_w / 2.0),
            num(top),
            num(bar_w),
            num(bottom - top),
            colour(step.kind),
            esc(&format!("{}: {} ({kind})", step.label, step.amount_text))
        );
        // Labels sit outside the bar, above it unless the bar hangs below zero.
        let (ly, size) = (
            if start.max(end) > 0.0 || lo >= 0.0 {
                top - 6.0
            } else {
                bottom + 14.0
            },
            if step.amount_text.chars().count() as f64 * CHAR_W <= col_w - 4.0 {
                13
            } else {
                11
            },
        );
        w!(
            out,
            r#"<text class="value" x="{}" y="{}" font-size="{size}" font-weight="600" fill="{INK}" text-anchor="middle">{}</text>"#,
            num(center(i)),
            num(ly),
            esc(&step.amount_text)
        );
        for (line_no, line) in labels[i].iter().enumerate() {
            w!(
                out,
                r#"<text class="step-label" x="{}" y="{}" font-size="{label_size}" fill="{MUTED}" text-anchor="middle">{}</text>"#,
                num(center(i)),
                num(height - 30.0 - extra + 14.0 * line_no as f64),
                esc(line)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// One bin of [`binned_histogram`]: its edges as the reader should see them and its count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountBin {
    pub from: String,
    pub to: String,
    pub count: u64,
}

/// Counts already binned by the caller (e.g. simulated years by what the district pays, the
/// simulator's own bins), as touching bars over a count axis. The caller formats the edges
/// (the chart does no money arithmetic); edges are labelled under the axis as often as they
/// fit, and every bar's title and the description give its full range and count in `unit`.
pub fn binned_histogram(title: &str, unit: &str, bins: &[CountBin]) -> String {
    if bins.is_empty() || bins.iter().all(|b| b.count == 0) {
        return no_data(title);
    }
    let parts: Vec<String> = bins
        .iter()
        .filter(|b| b.count > 0)
        .map(|b| format!("{} to {}: {} {unit}", b.from, b.to, b.count))
        .collect();
    let total: u64 = bins.iter().map(|b| b.count).sum();
    let desc = format!(
        "{total} {unit} in {} bins from {} to {}; {}.",
        bins.len(),
        bins[0].from,
        bins[bins.len() - 1].to,
        parts.join("; ")
    );
    let (width, height) = (640.0, 320.0);
    // Margins wide enough for a centred edge label of about a dozen characters at either end.
    let (x0, x1, y0, y1) = (64.0, width - 64.0, 48.0, height - 48.0);
    let max = bins.iter().map(|b| b.count).max().unwrap_or(1) as f64;
    let step = nice_step(max, 4.0).max(1.0);
    let top = (max / step).ceil() * step;
    let y_of = |v: f64| y1 - v / top * (y1 - y0);
    let col_w = (x1 - x0) / bins.len() as f64;

    let mut out = String::new();
    open_svg(&mut out, "bins", width, height, title, &desc);
    let mut t = 0.0;
    while t <= top + EPS {
        let y = y_of(t);
        w!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{GRID}" stroke-width="1"/><text x="{}" y="{}" font-size="13" fill="{MUTED}" text-anchor="end">{}</text>"#,
            num(x0),
            num(y),
            num(x1),
            num(y),
            num(x0 - 8.0),
            num(y + 4.0),
            trim_num(t, 0)
        );
        t += step;
    }
    let gap = (col_w * 0.12).min(4.0);
    for (i, b) in bins.iter().enumerate() {
        let x = x0 + i as f64 * col_w;
        let y = y_of(b.count as f64);
        w!(
            out,
            r#"<rect class="bar" data-count="{}" x="{}" y="{}" width="{}" height="{}" fill="{BLUE}"><title>{}</title></rect>"#,
            b.count,
            num(x + gap / 2.0),
            num(y),
            num(col_w - gap),
            num(y1 - y),
            esc(&format!("{} to {}: {} {unit}", b.from, b.to, b.count))
        );
        if b.count > 0 && col_w >= 16.0 {
            w!(
                out,
                r#"<text x="{}" y="{}" font-size="12" fill="{INK}" text-anchor="middle">{}</text>"#,
                num(x + col_w / 2.0),
                num(y - 4.0),
                b.count
            );
        }
    }
    w!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{AXIS}" stroke-width="1"/>"#,
        num(x0),
        num(y1),
        num(x1),
        num(y1)
    );
    // Edge labels at every k-th edge, k as small as keeps the widest label clear of the next.
    let edges: Vec<&str> = bins
        .iter()
        .map(|b| b.from.as_str())
        .chain(std::iter::once(bins[bins.len() - 1].to.as_str()))
        .collect();
    let widest = edges.iter().map(|e| e.chars().count()).max().unwrap_or(1) as f64;
    let every = ((widest * CHAR_W + 12.0) / col_w).ceil().max(1.0) as usize;
    for (k, edge) in edges.iter().enumerate() {
        if k % every != 0 {
            continue;
        }
        let x = x0 + k as f64 * col_w;
        w!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{AXIS}" stroke-width="1"/><text x="{}" y="{}" font-size="13" fill="{MUTED}" text-anchor="middle">{}</text>"#,
            num(x),
            num(y1),
            num(x),
            num(y1 + 4.0),
            num(x),
            num(y1 + 20.0),
            esc(edge)
        );
    }
    out.push_str("</svg>");
    out
}

/// One row of [`share_bars`]: a group and two shares of it, in percent (0-100).
#[derive(Debug, Clone, PartialEq)]
pub struct ShareRow {
    pub label: String,
    pub first: f64,
    pub second: f64,
}

/// Two shares per row as horizontal bars on a 0-100% axis, e.g. a group's share of a
/// selection (blue) next to its share of the population (slate): the equity view of a
/// targeting rule. Each bar is labelled with its percentage; `legend` names the two bars.
pub fn share_bars(title: &str, legend: (&str, &str), rows: &[ShareRow]) -> String {
    if rows.is_empty() {
        return no_data(title);
    }
    let pct = |v: f64| {
        if v.is_finite() {
            v.clamp(0.0, 100.0)
        } else {
            0.0
        }
    };
    let parts: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}: {} {}%, {} {}%",
                r.label,
                legend.0,
                trim_num(pct(r.first), 1),
                legend.1,
                trim_num(pct(r.second), 1)
            )
        })
        .collect();
    let desc = format!(
        "{} {}: {}.",
        rows.len(),
        plural(rows.len(), "group", "groups"),
        parts.join("; ")
    );
    let row_h = 40.0;
    let (width, label_w) = (640.0, 180.0);
    let (x0, x1, y0) = (16.0 + label_w, 640.0 - 64.0, 64.0);
    let height = y0 + row_h * rows.len() as f64 + 28.0;
    let x_of = |v: f64| x0 + pct(v) / 100.0 * (x1 - x0);

    let mut out = String::new();
    open_svg(&mut out, "shares", width, height, title, &desc);
    let mut lx = 16.0;
    for (name, colour) in [(legend.0, BLUE), (legend.1, TOTAL)] {
        w!(
            out,
            r#"<rect x="{}" y="36" width="12" height="12" fill="{colour}"/><text x="{}" y="46" font-size="13" fill="{MUTED}">{}</text>"#,
            num(lx),
            num(lx + 16.0),
            esc(name)
        );
        lx += 16.0 + name.chars().count() as f64 * CHAR_W + 18.0;
    }
    let bottom = y0 + row_h * rows.len() as f64;
    for tick in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let x = x_of(tick);
        w!(
            out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{GRID}" stroke-width="1"/><text x="{}" y="{}" font-size="12" fill="{MUTED}" text-anchor="middle">{}%</text>"#,
            num(x),
            num(y0),
            num(x),
            num(bottom),
            num(x),
            num(bottom + 16.0),
            trim_num(tick, 0)
        );
    }
    let max_chars = (label_w / CHAR_W).floor() as usize;
    for (i, r) in rows.iter().enumerate() {
        let top = y0 + row_h * i as f64;
        w!(
            out,
            r#"<text x="16" y="{}" font-size="13" fill="{INK}">{}</text>"#,
            num(top + 24.0),
            esc(&truncate(&r.label, max_chars))
        );
        for (j, (value, colour, name)) in [(r.first, BLUE, legend.0), (r.second, TOTAL, legend.1)]
            .into_iter()
            .enumerate()
        {
            let y = top + 6.0 + 14.0 * j as f64;
            let text = format!("{}%", trim_num(pct(value), 1));
            w!(
                out,
                r#"<rect class="bar" x="{}" y="{}" width="{}" height="12" fill="{colour}"><title>{}</title></rect><text x="{}" y="{}" font-size="11" fill="{INK}">{}</text>"#,
                num(x0),
                num(y),
                num(x_of(value) - x0),
                esc(&format!("{}: {name} {text}", r.label)),
                num(x_of(value) + 4.0),
                num(y + 10.0),
                text
            );
        }
    }
    w!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{AXIS}" stroke-width="1"/></svg>"#,
        num(x0),
        num(y0),
        num(x0),
        num(bottom)
    );
    out
}

/// What every chart says when there is nothing to draw: a small, still-accessible picture.
fn no_data(title: &str) -> String {
    let mut out = String::new();
    // As wide as the real charts, so text comes out the same size in the same container.
    open_svg(&mut out, "empty", 640.0, 80.0, title, "No data yet.");
    w!(
        out,
        r#"<text x="16" y="58" font-size="14" fill="{MUTED}">No data yet</text></svg>"#
    );
    out
}

/// The `<svg>` opening: scalable, labelled for assistive technology, on a white card. A chart
/// whose bars are links is a labelled `group`, not an `img`: an image may not hold controls.
fn open_svg(out: &mut String, kind: &str, width: f64, height: f64, title: &str, desc: &str) {
    open_svg_as(out, "img", kind, (width, height), title, desc)
}

fn open_svg_as(
    out: &mut String,
    role: &str,
    kind: &str,
    (width, height): (f64, f64),
    title: &str,
    desc: &str,
) {
    let id = chart_id(kind, title, desc);
    w!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" role="{role}" aria-labelledby="{id}-title {id}-desc" font-family="{FONT}">"#,
        trim_num(width, 0),
        trim_num(height, 0)
    );
    w!(
        out,
        r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        esc(title),
        esc(desc)
    );
    w!(
        out,
        r#"<rect width="{}" height="{}" rx="8" fill="{BACKGROUND}"/>"#,
        trim_num(width, 0),
        trim_num(height, 0)
    );
    w!(
        out,
        r#"<text x="16" y="26" font-size="17" font-weight="600" fill="{INK}">{}</text>"#,
        esc(&truncate(title, 64))
    );
}

/// Element ids for `aria-labelledby`, derived from the content (FNV-1a) so they stay
/// deterministic yet differ between the charts of one page.
fn chart_id(kind: &str, title: &str, desc: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in [kind, "\0", title, "\0", desc].concat().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("chart-{kind}-{hash:016x}")
}

/// XML-escapes text and drops the control characters XML 1.0 forbids, so caller strings can
/// never break the markup (or inject any).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with two fixed decimals; never "-0.00", never NaN.
fn num(v: f64) -> String {
    if !v.is_finite() || v.abs() < 0.005 {
        return "0.00".into();
    }
    format!("{v:.2}")
}

/// A label number: fixed decimals, then trailing zeros dropped ("1", "0.25", "-0.5").
fn trim_num(v: f64, decimals: usize) -> String {
    let mut s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.truncate(s.trim_end_matches('0').trim_end_matches('.').len());
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// The fewest decimals (up to 4) that show a step such as 0.25 or 0.1 exactly.
fn decimals_for(step: f64) -> usize {
    (0..4)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(4)
}

/// A tick step of 1, 2 or 5 times a power of ten giving at most about `ticks` intervals.
fn nice_step(span: f64, ticks: f64) -> f64 {
    let raw = span / ticks;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powi(raw.log10().floor() as i32);
    let norm = raw / magnitude;
    let nice = if norm <= 1.0 + EPS {
        1.0
    } else if norm <= 2.0 + EPS {
        2.0
    } else if norm <= 5.0 + EPS {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// Shortens text to `max` characters with an ellipsis, so long labels cannot overrun others.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// Word-wraps a label into lines of at most `max_chars`, as many as it takes: a word longer
/// than a line is split across lines rather than cut, so no label loses letters.
fn wrap_whole(s: &str, max_chars: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in s.split_whitespace() {
        let chars: Vec<char> = word.chars().collect();
        for piece in chars.chunks(max_chars.max(1)) {
            let piece: String = piece.iter().collect();
            if current.is_empty() {
                current = piece;
            } else if current.chars().count() + 1 + piece.chars().count() <= max_chars {
                current.push(' ');
                current.push_str(&piece);
            } else {
                lines.push(std::mem::replace(&mut current, piece));
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the output is well-formed XML as far as these charts go: balanced tags, one
    /// root, and `&` only in the entities `esc` writes.
    fn assert_well_formed(svg: &str) {
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("viewBox=\"0 0 "));
        assert!(svg.contains("width=\"100%\""));
        // An image, or a labelled group when its bars are links (an image holds no controls).
        let linked = svg.contains("<a href=");
        let role = if linked {
            "role=\"group\""
        } else {
            "role=\"img\""
        };
        assert!(svg.contains(role), "{role} expected");
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = svg;
        let mut roots = 0;
        while let Some(start) = rest.find('<') {
            let text = &rest[..start];
            check_entities(text);
            let end = rest[start..].find('>').expect("tag closes") + start;
            let tag = &rest[start + 1..end];
            assert!(!tag.contains('<'), "stray < in {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name), "mismatched </{name}>");
            } else {
                let name = tag.split([' ', '/']).next().unwrap();
                check_entities(tag);
                if stack.is_empty() {
                    roots += 1;
                }
                if !tag.ends_with('/') {
                    stack.push(name);
                }
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed {stack:?}");
        assert_eq!(roots, 1);
        assert!(rest.is_empty());
    }

    fn check_entities(s: &str) {
        for (i, _) in s.match_indices('&') {
            let entity = &s[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "bare & in {s}"
            );
        }
    }

    /// The opening tags of elements with the given class, in document order.
    fn tags<'a>(svg: &'a str, element_class: &str) -> Vec<&'a str> {
        svg.match_indices(element_class)
            .map(|(i, _)| {
                let end = svg[i..].find('>').unwrap() + i;
                &svg[i..end]
            })
            .collect()
    }

    fn attr(tag: &str, name: &str) -> f64 {
        let key = format!(" {name}=\"");
        let start = tag.find(&key).unwrap_or_else(|| panic!("{name} in {tag}")) + key.len();
        let end = tag[start..].find('"').unwrap() + start;
        tag[start..end].parse().unwrap()
    }

    fn step(label: &str, amount: f64, kind: StepKind) -> WaterfallStep {
        WaterfallStep {
            label: label.into(),
            amount,
            amount_text: format!("${amount:.2}"),
            kind,
        }
    }

    fn weeks(values: &[Option<f64>]) -> Vec<(String, Option<f64>)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("W{}", i + 1), *v))
            .collect()
    }

    #[test]
    fn binned_histograms_say_every_bin_in_words() {
        let bins = vec![
            CountBin {
                from: "$1.00".into(),
                to: "$2.00".into(),
                count: 3,
            },
            CountBin {
                from: "$2.00".into(),
                to: "$3.00".into(),
                count: 0,
            },
            CountBin {
                from: "$3.00".into(),
                to: "$4.00".into(),
                count: 7,
            },
        ];
        let svg = binned_histogram("Years", "years", &bins);
        assert!(svg.contains("10 years in 3 bins from $1.00 to $4.00; $1.00 to $2.00: 3 years; $3.00 to $4.00: 7 years."), "{svg}");
        assert_eq!(svg.matches("class=\"bar\"").count(), 3);
        assert!(!svg.contains("connector"));
        assert_eq!(svg, binned_histogram("Years", "years", &bins));
        assert!(binned_histogram("Years", "years", &[]).contains("No data yet"));
    }

    #[test]
    fn share_bars_label_every_bar_and_describe_them_in_words() {
        let svg = share_bars(
            "Who is chosen",
            ("selection", "district"),
            &[ShareRow {
                label: "english_learner".into(),
                first: 50.0,
                second: 12.5,
            }],
        );
        assert!(
            svg.contains("english_learner: selection 50%, district 12.5%"),
            "{svg}"
        );
        assert_eq!(svg.matches("class=\"bar\"").count(), 2);
        assert_eq!(
            svg,
            share_bars(
                "Who is chosen",
                ("selection", "district"),
                &[ShareRow {
                    label: "english_learner".into(),
                    first: 50.0,
                    second: 12.5,
                }]
            )
        );
        assert!(share_bars("t", ("a", "b"), &[]).contains("No data yet"));
    }

    #[test]
    fn escapes_every_text() {
        let nasty = "<script>alert('x&y')</script> \"q\"\u{7}";
        let svgs = [
            histogram(nasty, &[0.5, 1.2], 0.25, Some((1.0, nasty))),
            line_chart(
                nasty,
                &[(nasty.to_string(), Some(0.5)), ("b".into(), Some(0.8))],
                1.0,
                Some((0.7, nasty)),
            ),
            waterfall(
                nasty,
                &[WaterfallStep {
                    label: nasty.into(),
                    amount: 10.0,
                    amount_text: nasty.into(),
                    kind: StepKind::Total,
                }],
            ),
            no_data(nasty),
        ];
        for svg in &svgs {
            assert_well_formed(svg);
            assert!(!svg.contains("<script"));
            assert!(!svg.contains('\u{7}'));
            assert!(
                svg.contains("&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt; &quot;q&quot;")
            );
        }
        assert_eq!(esc("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn empty_input_says_no_data_yet() {
        let svgs = [
            histogram("Growth", &[], 0.25, Some((1.0, "meets projection"))),
            histogram("Growth", &[f64::NAN, f64::INFINITY], 0.25, None),
            line_chart("Attendance", &[], 1.0, Some((0.7, "minimum"))),
            line_chart("Attendance", &weeks(&[None, None]), 1.0, None),
            waterfall("Payable", &[]),
        ];
        for svg in &svgs {
            assert_well_formed(svg);
            assert!(svg.contains(">No data yet</text>"));
            assert!(svg.contains("<desc id=\"chart-empty-"));
            assert!(svg.contains("viewBox=\"0 0 640 80\""));
        }
    }

    #[test]
    fn output_is_deterministic() {
        let values = [0.1, 0.45, 0.9, 1.0, 1.3, 2.2, -3.0, 7.0];
        let points = weeks(&[Some(0.8), None, Some(0.65), Some(0.9)]);
        let steps = [
            step("Full price", 1000.0, StepKind::Total),
            step("Base not earned", -100.0, StepKind::Decrease),
            step("Payable", 900.0, StepKind::Total),
        ];
        let marker = Some((1.0, "meets projection"));
        assert_eq!(
            histogram("G", &values, 0.25, marker),
            histogram("G", &values, 0.25, marker)
        );
        assert_eq!(
            line_chart("A", &points, 1.0, Some((0.7, "min"))),
            line_chart("A", &points, 1.0, Some((0.7, "min")))
        );
        assert_eq!(waterfall("W", &steps), waterfall("W", &steps));
        // Extreme inputs still draw: far-out values land in the overflow bins.
        let far = histogram("G", &[1e300, -1e300, f64::MAX], 0.25, Some((1e300, "far")));
        assert_well_formed(&far);
        assert!(far.contains("1 below -1; 2 at 3 or above."));
        for svg in [
            histogram("G", &values, 0.25, marker),
            line_chart("A", &points, 1.0, Some((0.7, "min"))),
            waterfall("W", &steps),
        ] {
            assert_well_formed(&svg);
            assert!(!svg.contains("NaN") && !svg.contains("inf") && !svg.contains("-0.00"));
        }
    }

    #[test]
    fn histogram_has_one_bar_per_bin() {
        // Bins 0..0.25, 0.25..0.5, 0.5..0.75, 0.75..1, 1..1.25.
        let svg = histogram("G", &[0.1, 0.2, 0.6, 1.1], 0.25, Some((1.0, "meets")));
        assert_well_formed(&svg);
        let bars = tags(&svg, "<rect class=\"bar\"");
        let counts: Vec<f64> = bars.iter().map(|b| attr(b, "data-count")).collect();
        assert_eq!(counts, [2.0, 0.0, 1.0, 0.0, 1.0]);
        assert!(svg.contains("4 students: 2 from 0 to under 0.25; 1 from 0.5 to under 0.75; 1 from 1 to under 1.25. Marker at 1 (meets): 1 of 4 at or above it."));
        // The marker line stands on the 1.0 edge, the left edge of the fifth bar (plus gap).
        let marker = tags(&svg, "<line class=\"marker\"")[0];
        let fifth = bars[4];
        assert!((attr(marker, "x1") - attr(fifth, "x")).abs() < 4.0);

        // Overflow on both sides: "< -1", eight 0.5-wide bins from -1 to 3, ">= 3".
        let svg = histogram("G", &[-2.0, 0.0, 5.0, 3.0], 0.5, None);
        assert_well_formed(&svg);
        let counts: Vec<f64> = tags(&svg, "<rect class=\"bar\"")
            .iter()
            .map(|b| attr(b, "data-count"))
            .collect();
        assert_eq!(counts, [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]);
        assert!(svg.contains(">&lt; -1</text>") && svg.contains(">&gt;= 3</text>"));
        assert!(svg.contains("1 below -1; 1 from 0 to under 0.5; 2 at 3 or above."));

        // Bin edges tolerate floating point: 0.7 belongs to the bin starting at 0.7.
        let svg = histogram("G", &[0.7, 0.75], 0.1, None);
        assert_eq!(tags(&svg, "<rect class=\"bar\"").len(), 1);
        assert!(svg.contains("2 students: 2 from 0.7 to under 0.8."));
        // One value is still a chart.
        let svg = histogram("G", &[1.0], 0.25, None);
        assert_eq!(tags(&svg, "<rect class=\"bar\"").len(), 1);
        assert!(svg.contains("1 student: 1 from 1 to under 1.25."));
    }

    #[test]
    fn waterfall_labels_are_never_cut() {
        let label = "Attendance excluded (district responsible)";
        let steps: Vec<WaterfallStep> = (0..8)
            .map(|i| {
                step(
                    if i == 3 { label } else { "Full price" },
                    10.0,
                    StepKind::Total,
                )
            })
            .collect();
        let svg = waterfall("W", &steps);
        assert_well_formed(&svg);
        assert!(!svg.contains('…'), "{svg}");
        let shown: Vec<&str> = svg
            .split(r#"<text class="step-label""#)
            .skip(1)
            .filter_map(|t| t.split('>').nth(1))
            .map(|t| t.trim_end_matches("</text"))
            .collect();
        for word in label.split_whitespace() {
            assert!(shown.contains(&word), "{word} in {shown:?}");
        }
    }

    #[test]
    fn histogram_bars_link_to_the_students_of_their_bin() {
        let link = |from: Option<f64>, to: Option<f64>| {
            format!(
                "/students?from={}&to={}",
                from.unwrap_or(-9.0),
                to.unwrap_or(9.0)
            )
        };
        let svg = histogram_linked("G", &[0.1, 1.1, 1.2, 9.0], 0.5, None, &link);
        assert_well_formed(&svg);
        assert!(
            svg.contains(r#"<a href="/students?from=0&amp;to=0.5""#),
            "{svg}"
        );
        assert!(svg.contains(r#"<a href="/students?from=1&amp;to=1.5""#));
        // The overflow bar links to everything above the range.
        assert!(svg.contains(&format!(
            r#"<a href="/students?from={}&amp;to=9""#,
            HISTOGRAM_RANGE.1
        )));
        assert!(!histogram("G", &[0.1], 0.5, None).contains("<a "));
    }

    #[test]
    fn waterfall_bars_follow_the_running_total() {
        let steps = [
            step("Full price", 100.0, StepKind::Total),
            step("Base not earned", -30.0, StepKind::Decrease),
            step("Bonus", 10.0, StepKind::Increase),
            step("Payable", 80.0, StepKind::Total),
        ];
        let svg = waterfall("From full price to amount payable", &steps);
        assert_well_formed(&svg);
        let bars = tags(&svg, "<rect class=\"bar\"");
        assert_eq!(bars.len(), 4);
        let top = |i: usize| attr(bars[i], "y");
        let bottom = |i: usize| attr(bars[i], "y") + attr(bars[i], "height");
        let zero = bottom(0);
        let unit = (zero - top(0)) / 100.0;
        let level = |v: f64| zero - v * unit;
        let close = |a: f64, b: f64| assert!((a - b).abs() < 0.02, "{a} != {b}");
        close(top(1), level(100.0));
        close(bottom(1), level(70.0));
        close(top(2), level(80.0));
        close(bottom(2), level(70.0));
        close(top(3), level(80.0));
        close(bottom(3), zero);
        assert!(bars[0].contains(&format!("fill=\"{TOTAL}\"")));
        assert!(bars[1].contains(&format!("fill=\"{DOWN}\"")));
        assert!(bars[2].contains(&format!("fill=\"{UP}\"")));
        // Connectors sit at the running total after each bar.
        let connectors = tags(&svg, "<line class=\"connector\"");
        assert_eq!(connectors.len(), 3);
        for (c, v) in connectors.iter().zip([100.0, 70.0, 80.0]) {
            close(attr(c, "y1"), level(v));
        }
        assert!(svg.contains("4 steps: Full price: $100.00 (total); Base not earned: $-30.00 (decrease); Bonus: $10.00 (increase); Payable: $80.00 (total)."));

        // A decrease below zero extends the scale downwards; the zero line stays put.
        let svg = waterfall(
            "W",
            &[
                step("A", 10.0, StepKind::Total),
                step("B", 30.0, StepKind::Decrease),
            ],
        );
        assert_well_formed(&svg);
        let bars = tags(&svg, "<rect class=\"bar\"");
        let unit = attr(bars[0], "height") / 10.0;
        let zero = attr(bars[0], "y") + attr(bars[0], "height");
        close(attr(bars[1], "y"), zero - 10.0 * unit);
        close(
            attr(bars[1], "y") + attr(bars[1], "height"),
            zero + 20.0 * unit,
        );
    }

    #[test]
    fn line_chart_breaks_at_missing_points() {
        let svg = line_chart(
            "Weekly attendance rate",
            &weeks(&[Some(0.8), Some(0.9), None, Some(0.6), Some(0.75)]),
            1.0,
            Some((0.7, "contract minimum")),
        );
        assert_well_formed(&svg);
        let path = tags(&svg, "<path class=\"line\"")[0];
        assert_eq!(path.matches('M').count(), 2);
        assert_eq!(path.matches('L').count(), 2);
        assert_eq!(tags(&svg, "<circle class=\"point\"").len(), 4);
        assert!(svg.contains(">100%</text>") && svg.contains(">0%</text>"));
        assert!(svg.contains("5 points from W1 to W5. Lowest 60% (W4), highest 90% (W2), latest 75% (W5). 1 without data. 3 of 4 at or above contract minimum (70%)."));

        // A point alone between gaps has a dot but no line.
        let svg = line_chart(
            "A",
            &weeks(&[Some(0.5), None, Some(0.6), Some(0.7)]),
            1.0,
            None,
        );
        let path = tags(&svg, "<path class=\"line\"")[0];
        assert_eq!(path.matches('M').count(), 1);
        assert_eq!(tags(&svg, "<circle class=\"point\"").len(), 3);
        let svg = line_chart("A", &weeks(&[Some(0.5), None, Some(0.6)]), 1.0, None);
        assert!(!svg.contains("<path"));
        assert_eq!(tags(&svg, "<circle class=\"point\"").len(), 2);

        // Plain numbers when y_max > 1.
        let svg = line_chart("S", &weeks(&[Some(3.0), Some(12.5)]), 20.0, None);
        assert!(svg.contains(">20</text>") && !svg.contains("%</text>"));
    }

    #[test]
    fn line_chart_thins_x_labels_but_keeps_the_latest() {
        let points: Vec<(String, Option<f64>)> = (0..52)
            .map(|i| {
                (
                    format!("2025-{:02}-{:02}", 1 + i / 5, 1 + i % 28),
                    Some(0.8),
                )
            })
            .collect();
        let svg = line_chart("A", &points, 1.0, None);
        assert_well_formed(&svg);
        let labels = tags(&svg, "<text class=\"xlabel\"");
        assert!(labels.len() > 3 && labels.len() < 52);
        let last = svg.rfind("<text class=\"xlabel\"").unwrap();
        assert!(svg[last..].contains(&format!(">{}</text>", points[51].0)));
        // Neighbouring labels are at least a label's width apart.
        let xs: Vec<f64> = labels.iter().map(|l| attr(l, "x")).collect();
        assert!(xs.windows(2).all(|p| p[1] - p[0] >= 10.0 * CHAR_W));
    }

    #[test]
    fn numbers_and_text_helpers() {
        assert_eq!(num(-0.001), "0.00");
        assert_eq!(num(12.345), "12.35");
        assert_eq!(trim_num(-0.0, 2), "0");
        assert_eq!(trim_num(0.5, 2), "0.5");
        assert_eq!(trim_num(100.0, 0), "100");
        assert_eq!(decimals_for(0.25), 2);
        assert_eq!(decimals_for(0.1), 1);
        assert_eq!(decimals_for(5.0), 0);
        assert_eq!(nice_step(1.0, 5.0), 0.2);
        assert_eq!(nice_step(37.0, 5.0), 10.0);
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(wrap_whole("Base not earned", 8), ["Base not", "earned"]);
        assert_eq!(
            wrap_whole("one two three four", 8),
            ["one two", "three", "four"]
        );
        assert_eq!(wrap_whole("excluded", 5), ["exclu", "ded"]);
    }
}
