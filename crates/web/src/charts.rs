//! Placeholder until the SVG charts land.
pub struct WaterfallStep {
    pub label: String,
    pub amount: f64,
    pub amount_text: String,
    pub kind: StepKind,
}
pub enum StepKind {
    Total,
    Increase,
    Decrease,
}
pub fn histogram(
    _title: &str,
    _values: &[f64],
    _bin_width: f64,
    _marker: Option<(f64, &str)>,
) -> String {
    String::new()
}
pub fn line_chart(
    _title: &str,
    _points: &[(String, Option<f64>)],
    _y_max: f64,
    _threshold: Option<(f64, &str)>,
) -> String {
    String::new()
}
pub fn waterfall(_title: &str, _steps: &[WaterfallStep]) -> String {
    String::new()
}
